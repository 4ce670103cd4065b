"""Server-side sign-in sessions: the cookie carries a random token, the database its hash.

This is what makes logout, password changes and deactivation end a session at once, gives a new
token at every login (no fixation), and enforces idle and absolute lifetimes (QUALITY T15).
"""
import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import select, update

from app import domains
from app.audit.services import ClientInfo
from app.extensions import db, htmx, login_manager
from app.htmx import redirect_to
from app.models import AuthSession, User, utcnow
from app.permissions import viewer_of_rows, with_viewer
from app.team import organisations_column, organisations_of
from app.tenancy import SLUG_RE, current_scope, enter_request_scope, set_scope

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


def load_session(token: str, tenant_slug: str | None = None) -> User | None:
    """Return the user of a live session token, or None when unknown, ended or expired.

    With ``tenant_slug`` (a page of an organisation) the request costs two statements in all: one sets the scope of
    the transaction (``tenancy.enter_request_scope``), one reads the session, the person, the organisation and their
    membership with its rights (``permissions.with_viewer``); the organisation and the viewer wait in ``g`` for the
    tenant blueprint and its membership guard.
    """
    token_hash = _hash(token)
    stmt = select(AuthSession).select_from(AuthSession).where(AuthSession.token_hash == token_hash)
    before = current_scope()
    scope = enter_request_scope(tenant_slug, token_hash) if tenant_slug and SLUG_RE.match(tenant_slug) else None
    if scope is not None and scope.tenant_id is not None:
        rows = db.session.execute(with_viewer(stmt, AuthSession.user_id, scope.tenant_id)
                                  .add_columns(*_layout_columns(token_hash))).all()
        row = rows[0][0] if rows else None
    else:
        rows, row = None, db.session.scalar(stmt)
    if row is None or row.ended_at is not None:
        set_scope(tenant_id=before.tenant_id, user_id=before.user_id)  # a dead session scopes nothing
        return None
    now = utcnow()
    idle = current_app.config["SESSION_IDLE_TIMEOUT"]
    absolute = current_app.config["SESSION_ABSOLUTE_TIMEOUT"]
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        set_scope(tenant_id=before.tenant_id, user_id=before.user_id)
        row.ended_at = now
        db.session.commit()
        return None
    if rows is not None:
        g.loaded_tenant, g.loaded_viewer = viewer_of_rows([r[:4] for r in rows])
        _keep_layout(rows[0][4:])
    if now - row.last_seen_at > TOUCH_EVERY:
        db.session.execute(update(AuthSession).where(AuthSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    user = row.user
    user._session_token = token
    user.auth_session = row
    return user


def _badge_links() -> list:
    return [link for link in domains.nav_links() if link.badge_count is not None]


def _layout_columns(token_hash: str) -> list:
    """What every page's layout shows of the person, read with their session: their organisations (the switcher) and
    the menu's badges (``NavLink.badge_count``, counted in the organisation in scope)."""
    user_id = select(AuthSession.user_id).where(AuthSession.token_hash == token_hash).correlate(None).scalar_subquery()
    return [organisations_column(user_id), *(link.badge_count(AuthSession.user_id) for link in _badge_links())]


def _keep_layout(values) -> None:
    """Leave ``_layout_columns``' values for the layout (``web.nav_organisations``, ``web.nav_badge``)."""
    g.nav_orgs = organisations_of(values[0])
    g.nav_badges = {link.endpoint: count for link, count in zip(_badge_links(), values[1:], strict=True)}


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
        user = load_session(token, g.pop("tenant_slug", None))  # set by the tenant blueprint for this request
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
