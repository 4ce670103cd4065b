"""Request-side helpers of the security log: who is calling, and logging refusals."""
import re

from flask import g, request
from flask_login import current_user

from app.audit.chain import clear_actor, set_actor
from app.audit.services import ClientInfo, record_security_event
from app.extensions import db

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def client_info() -> ClientInfo:
    """Return the caller's address and user agent for the security log.

    The user agent is the client's own text: control characters are dropped (NUL cannot be stored
    in PostgreSQL, CR/LF and ANSI escapes would forge lines in a log viewer).
    """
    agent = _CONTROL_CHARACTERS.sub("", request.user_agent.string or "")[:255]
    return ClientInfo(ip=request.remote_addr, user_agent=agent or None)


def log_denied(status: int, **detail) -> None:
    """Record a refused request in the log of the tenant it targeted, and commit it."""
    tenant = g.get("tenant")
    if tenant is None:
        return
    user_id = current_user.id if current_user.is_authenticated else None
    kind = "access_denied" if status == 403 else "access_not_found"
    record_security_event(
        tenant.id, kind, user_id=user_id, client=client_info(),
        path=request.path[:200], method=request.method, **detail,
    )
    db.session.commit()


def init_app(app) -> None:
    """Name the actor of every change a request makes (for the audit log)."""

    @app.before_request
    def _name_actor():
        user_id = current_user.id if current_user.is_authenticated else None
        set_actor(user_id, request.remote_addr)

    @app.teardown_request
    def _forget_actor(exc):
        clear_actor()
