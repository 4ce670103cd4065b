"""Accounts: sign-in with throttling, sign-up with e-mail confirmation, password resets."""
import enum
import hashlib
import hmac
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from app.audit.services import ClientInfo, record_account_event
from app.auth import passwords
from app.auth.sessions import end_all_sessions, end_session, start_session
from app.extensions import db
from app.models import LoginAttempt, PendingSignup, RememberedDevice, Tenant, User, utcnow
from app.team import add_organisation
from app.tokens import make_token, read_token

SIGNUP_MAX_AGE = timedelta(days=2)


class LoginOutcome(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _email_key(email: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def _recent_failures(column, value) -> int:
    since = utcnow() - current_app.config["LOGIN_WINDOW"]
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(column == value, LoginAttempt.success.is_(False), LoginAttempt.attempted_at >= since)
    )


def sign_in_throttled(email: str, ip: str | None) -> bool:
    """True when the account or the address has used up its failed sign-ins (wrong passwords and wrong second-factor
    codes count alike, in ``login_attempt``)."""
    config = current_app.config
    return (_recent_failures(LoginAttempt.email_hash, _email_key(email)) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or _recent_failures(LoginAttempt.ip, ip or "unknown") >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"])


def count_failed_sign_in(email: str, ip: str | None) -> None:
    """Count a failed sign-in of the account and the address (caller commits)."""
    db.session.add(LoginAttempt(email_hash=_email_key(email), ip=ip or "unknown", success=False))


def authenticate(email: str, password: str, client: ClientInfo) -> tuple[LoginOutcome, User | None]:
    """Check a sign-in, throttled per account and per address; the answer never tells if the e-mail exists."""
    key, ip = _email_key(email), client.ip or "unknown"
    user = get_user_by_email(email)
    if sign_in_throttled(email, ip):
        passwords.verify_password(None, password)  # same cost as a real check
        if user is not None:
            record_account_event(user, "login_throttled", client)
        db.session.commit()
        return LoginOutcome.THROTTLED, None
    ok = passwords.verify_password(user.password_hash if user else None, password)
    db.session.add(LoginAttempt(email_hash=key, ip=ip, success=ok))
    if not ok:
        if user is not None:
            record_account_event(user, "login_failed", client)
        db.session.commit()
        return LoginOutcome.FAILED, None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    db.session.commit()
    return LoginOutcome.OK, user


def sign_in(user: User, client: ClientInfo) -> str:
    """Open a new server-side session for ``user``, log it, and return its token."""
    token = start_session(user, client)
    record_account_event(user, "login", client)
    db.session.commit()
    return token


def sign_out(user: User, client: ClientInfo) -> None:
    """End the current session of ``user`` and log it."""
    end_session(user)
    record_account_event(user, "logout", client)
    db.session.commit()


def request_signup(*, email: str, name: str, password: str, org_name: str, slug: str, locale: str) -> dict:
    """Start a sign-up; return what the confirmation e-mail needs (the same work whether the e-mail exists)."""
    email = normalise_email(email)
    password_hash = passwords.hash_password(password)
    if get_user_by_email(email) is not None:
        return {"kind": "existing", "email": email}
    db.session.execute(delete(PendingSignup).where(PendingSignup.email == email))
    pending = PendingSignup(email=email, name=name.strip(), password_hash=password_hash,
                            org_name=org_name.strip(), slug=slug, locale=locale)
    db.session.add(pending)
    db.session.commit()
    return {"kind": "new", "email": email, "token": make_token("signup", {"p": str(pending.id)})}


def confirm_signup(pending: PendingSignup, slug: str, client: ClientInfo) -> tuple[User, Tenant]:
    """Turn a confirmed sign-up into an account, its organisation and an owner membership."""
    user = get_user_by_email(pending.email)
    if user is None:
        user = User(email=pending.email, name=pending.name, password_hash=pending.password_hash,
                    locale=pending.locale)
        db.session.add(user)
        db.session.flush()
    tenant = add_organisation(user, pending.org_name, slug, client, locale=pending.locale)
    db.session.delete(pending)
    db.session.commit()
    return user, tenant


def get_pending_signup(token: str) -> PendingSignup | None:
    """Return the sign-up a confirmation token names, if it is still waiting."""
    payload = read_token("signup", token, SIGNUP_MAX_AGE)
    if payload is None:
        return None
    return db.session.scalar(select(PendingSignup).where(PendingSignup.id == _uuid(payload.get("p"))))


def password_reset_token(user: User) -> str:
    """Return a reset token bound to the current password, so that it works only once."""
    return make_token("reset", {"u": str(user.id), "f": _fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """Return the user a reset token is for, or None if it is forged, expired or already used."""
    payload = read_token("reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    if payload is None:
        return None
    user = db.session.get(User, _uuid(payload.get("u")))
    if user is None or not hmac.compare_digest(payload.get("f", ""), _fingerprint(user)):
        return None
    return user


def set_password(user: User, password: str, client: ClientInfo, *, kind: str) -> None:
    """Change ``user``'s password, end their other sessions and log it (``kind``: reset or change)."""
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    end_all_sessions(user.id, keep=user.auth_session if kind == "password_changed" else None)
    if kind == "password_reset":  # the e-mail was proved, not the second factor: no browser may skip it any more
        db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user.id))
    record_account_event(user, kind, client)
    db.session.commit()


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def create_invited_user(email: str, name: str, password: str, locale: str) -> User:
    """Create the account of an invited person (the invitation proved the e-mail)."""
    user = User(email=normalise_email(email), name=name.strip(), password_hash=passwords.hash_password(password),
                locale=locale)
    db.session.add(user)
    db.session.commit()
    return user


def update_account(user: User, *, name: str, locale: str, timezone: str) -> None:
    """Save the user's own settings."""
    user.name, user.locale, user.timezone = name.strip(), locale, timezone
    db.session.commit()


def update_language(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()
