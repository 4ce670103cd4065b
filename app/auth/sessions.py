"""Server-side sign-in sessions: the cookie carries a random token, the database its hash.

This is what makes logout, password changes and deactivation end a session at once, gives a new
token at every login (no fixation), and enforces idle and absolute lifetimes (QUALITY T15).
"""
import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import current_app, redirect, request, session, url_for
from sqlalchemy import select, update

from app.audit.services import ClientInfo
from app.extensions import db, htmx, login_manager
from app.htmx import redirect_to
from app.models import AuthSession, User, utcnow
from app.tenancy import set_scope

TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, client: ClientInfo) -> str:
    """Create a server-side session for ``user`` and return its token (caller commits)."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(
        user_id=user.id, token_hash=_hash(token), ip=client.ip,
        user_agent=(client.user_agent or "")[:255] or None,
    ))
    user._session_token = token
    return token


def load_session(token: str) -> User | None:
    """Return the user of a live session token, or None when unknown, ended or expired."""
    row = db.session.scalar(select(AuthSession).where(AuthSession.token_hash == _hash(token)))
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    idle = current_app.config["SESSION_IDLE_TIMEOUT"]
    absolute = current_app.config["SESSION_ABSOLUTE_TIMEOUT"]
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        row.ended_at = now
        db.session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        db.session.execute(update(AuthSession).where(AuthSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    user = row.user
    user._session_token = token
    user.auth_session = row
    return user


def end_session(user: User) -> None:
    """End the session the current request came with (caller commits)."""
    if user.auth_session is not None:
        user.auth_session.ended_at = utcnow()


def end_all_sessions(user_id: uuid.UUID, *, keep: AuthSession | None = None) -> None:
    """End every session of ``user_id`` except ``keep`` (caller commits)."""
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    db.session.execute(stmt.values(ended_at=utcnow()))


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side token already binds the session

    @login_manager.user_loader
    def _load_user(token: str) -> User | None:
        user = load_session(token)
        if user is None:
            for key in ("_user_id", "_fresh", "_id"):
                session.pop(key, None)
            return None
        set_scope(user_id=user.id)
        return user

    @login_manager.unauthorized_handler
    def _ask_to_sign_in():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        return redirect_to(target) if htmx else redirect(target)

    @app.before_request
    def _authenticate_early():
        # Load the session (and commit its last-seen touch) before any view work begins.
        from flask_login import current_user

        current_user._get_current_object()
