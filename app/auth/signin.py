"""The one way into a session: every sign-in method (password, reset link, invitation, single sign-on)
ends in ``finish_sign_in``, which is where a second factor is asked for before the session starts."""
from flask import session, url_for
from flask_login import current_user, login_user
from werkzeug.urls import iri_to_uri

from app.audit.web import client_info
from app.auth import services
from app.auth.sessions import end_session
from app.htmx import redirect_to


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


def start_signed_in(user) -> None:
    """Replace the session by a fresh one for ``user`` (a new token at every sign-in)."""
    if current_user.is_authenticated:
        end_session(current_user)  # re-authentication also ends the old token (ASVS 7.2.4); sign_in commits
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    services.sign_in(user, client_info())
    login_user(user)
    session.permanent = True


def finish_sign_in(user, next_url: str | None = None):
    """``user`` has proved who they are with a first factor: sign them in and go to ``next_url`` (a path
    on this site) or the home page. Answers the redirect (HX-Redirect for htmx)."""
    start_signed_in(user)
    return redirect_to(safe_next(next_url) or url_for("public.index"))
