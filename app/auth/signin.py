"""The one way into a session: every sign-in method (password, reset link, invitation, single sign-on)
ends in ``finish_sign_in``, which is where a second factor is asked for before the session starts.

A person who uses two-factor sign-in and is not on one of their remembered devices is not signed in by
``finish_sign_in``: the signed Flask session only notes who proved a first factor, where they were going and
when (``PENDING_KEY``), and the code page (``/auth/two-factor``, ``twofactor_routes.py``) opens the session
with ``open_session`` once the code passes. That note lasts ``PENDING_SECONDS`` and never authenticates.
"""
import time
import uuid

from flask import request, session, url_for
from flask_login import current_user, login_user
from werkzeug.urls import iri_to_uri

from app.audit.web import client_info
from app.auth import services, twofactor
from app.auth.sessions import end_session
from app.extensions import db
from app.htmx import redirect_to
from app.models import User

PENDING_KEY = "second_factor"  # in the signed session: {"u": user id, "n": next path, "t": when the first factor passed}
PENDING_SECONDS = 300
DEVICE_COOKIE = "__Host-storia-device"  # a remembered device's token (its hash is in remembered_device)


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site (no open redirects), else None.

    Browsers drop tabs and newlines inside a URL and read ``\\`` as ``/``, so ``/\\t/evil.example``
    or ``/\\evil.example`` would leave the site: any control character or backslash is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    return iri_to_uri(target)  # ASCII only, also in the HX-Redirect header


def _fresh_session() -> None:
    """Empty the signed session but for the chosen language and the messages waiting to be shown."""
    kept = {key: session[key] for key in ("lang", "_flashes") if key in session}
    session.clear()
    session.update(kept)


def start_signed_in(user) -> None:
    """Replace the session by a fresh one for ``user`` (a new token at every sign-in).

    The low-level "open the session now": callers have checked every factor (``finish_sign_in`` decides). Called
    directly only where no second factor can exist yet: an account just created from an invitation.
    """
    if current_user.is_authenticated:
        end_session(current_user)  # re-authentication also ends the old token (ASVS 7.2.4); sign_in commits
    _fresh_session()
    services.sign_in(user, client_info())
    login_user(user)
    session.permanent = True


def open_session(user, next_url: str | None = None):
    """Sign ``user`` in now and go to ``next_url`` (a path on this site) or the home page: for callers that have
    checked every factor (``finish_sign_in``, the second-factor step)."""
    start_signed_in(user)
    return redirect_to(safe_next(next_url) or url_for("public.index"))


def finish_sign_in(user, next_url: str | None = None):
    """``user`` has proved who they are with a first factor: sign them in and go to ``next_url`` (a path
    on this site) or the home page — or, when they use two-factor sign-in on a browser they did not ask to
    remember, ask for a code first (nothing is signed in until it passes). Answers the redirect (HX-Redirect for
    htmx)."""
    if not twofactor.needs_second_factor(user, request.cookies.get(DEVICE_COOKIE)):
        return open_session(user, next_url)
    if current_user.is_authenticated:  # someone else was signed in on this browser: that session ends here
        end_session(current_user)
        db.session.commit()
    _fresh_session()
    session[PENDING_KEY] = {"u": str(user.id), "n": safe_next(next_url) or "", "t": time.time()}
    return redirect_to(url_for("auth.two_factor"))


def pending_user() -> tuple[User, str | None] | None:
    """The person waiting at the second-factor step of this browser and where they were going, or None when
    nobody is, the wait is over (``PENDING_SECONDS``), or their password or second factor changed meanwhile."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    started = pending.get("t")
    if not isinstance(started, int | float) or not 0 <= time.time() - started <= PENDING_SECONDS:
        return None
    try:
        user = db.session.get(User, uuid.UUID(str(pending.get("u"))))
    except ValueError:
        return None
    if user is None or user.password_changed_at.timestamp() > started or not twofactor.has_two_factor(user.id):
        return None
    return user, pending.get("n") or None


def forget_pending() -> None:
    session.pop(PENDING_KEY, None)
