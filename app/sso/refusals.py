"""Why a single sign-on was refused: one reason code each, its status, what the person reads, and where it is logged.

Every refusal is a clear page in the person's language (never a 500, never a trace) and a security event: in the
organisation's log for an organisation's provider, in the account's logs when the person is known, and always in
the application log (``storia.sso``), which is the only record when nobody is known. Codes, states and tokens are
never logged.
"""
import logging
import re

from flask_babel import lazy_gettext as _l

from app.audit.services import ClientInfo, record_account_event, record_security_event
from app.extensions import db
from app.models import User

log = logging.getLogger("storia.sso")

START_AGAIN = _l("Start again from the sign-in page.")
NOT_VERIFIED = _l("The answer of %(provider)s could not be verified, so you were not signed in.")

# reason: (status, message, detail). Messages may name %(provider)s, %(email)s, %(domains)s and %(error)s.
REASONS = {
    "state": (400, _l("This sign-in was not started in this browser, or its answer was already used."), START_AGAIN),
    "expired_flow": (400, _l("The sign-in took too long."), START_AGAIN),
    "provider_error": (400, _l("%(provider)s did not sign you in (its answer: %(error)s)."), START_AGAIN),
    "cancelled": (400, _l("The sign-in was cancelled at %(provider)s."), START_AGAIN),
    "code": (401, NOT_VERIFIED, _l("The provider refused to complete this sign-in.")),
    "nonce": (401, NOT_VERIFIED, _l("The token does not belong to this sign-in.")),
    "issuer": (401, NOT_VERIFIED, _l("The token comes from another issuer.")),
    "audience": (401, NOT_VERIFIED, _l("The token was issued for another application.")),
    "expired": (401, NOT_VERIFIED, _l("The token has expired.")),
    "not_yet_valid": (401, NOT_VERIFIED, _l("The token is not valid yet: a clock may be wrong.")),
    "signature": (401, NOT_VERIFIED, _l("The token's signature is not valid.")),
    "claims": (401, NOT_VERIFIED, _l("The token is incomplete.")),
    "userinfo": (401, NOT_VERIFIED, _l("The provider's profile is not the one of the token.")),
    "no_email": (403, _l("%(provider)s did not give an e-mail address, so Storia cannot tell who you are."), None),
    "unverified": (403, _l("%(provider)s has not verified the address %(email)s, so it cannot sign you in with it."),
                   _l("Verify the address with %(provider)s first, or sign in with your password.")),
    "domain": (403, _l("The single sign-on of %(provider)s is for addresses at %(domains)s only."), None),
    "not_member": (403, _l("You are not a member of %(provider)s."),
                   _l("Ask one of its administrators to invite you, then sign in again.")),
    "taken": (403, _l("This %(provider)s account is already linked to another Storia account."), None),
    "other_address": (403, _l("This %(provider)s account's address (%(email)s) is not the one of your Storia account."),
                      _l("Sign in to %(provider)s with the address of your Storia account.")),
    "setup": (403, _l("The single sign-on of %(provider)s is not fully set up."), _l("Tell its administrators.")),
    "too_many": (429, _l("Too many confirmation e-mails were sent to %(email)s."), _l("Wait 15 minutes and try again.")),
    "conflict": (409, _l("This sign-in was completed at the same moment elsewhere."), START_AGAIN),
    "unavailable": (502, _l("%(provider)s could not be reached."), _l("Try again in a moment.")),
}


class Refused(Exception):
    """A single sign-on refused for ``reason``; ``values`` fill its message, ``user`` is who it is about (if known)."""

    def __init__(self, reason: str, user=None, **values):
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason, self.user, self.values = reason, user, values

    @property
    def status(self) -> int:
        return REASONS[self.reason][0]

    def message(self, provider_label: str) -> tuple[str, str | None]:
        """The sentence and the advice shown, in the request's language."""
        values = {"provider": provider_label, "email": "", "domains": "", "error": "", **self.values}
        _, message, detail = REASONS[self.reason]
        return message % values, (detail % values if detail is not None else None)


def error_code(value: str | None) -> str:
    """A provider's ``error`` as safe to show and log: lower-case letters and underscores, at most 40."""
    return re.sub(r"[^a-z_]", "", (value or "").lower())[:40] or "unknown"


def record_refusal(refused: Refused, provider_key: str, tenant_id, client: ClientInfo) -> None:
    """Log ``refused`` where the module's doc says, and commit."""
    user_id = refused.user.id if refused.user is not None else None
    detail = {"reason": refused.reason, "provider": provider_key}
    if "error" in refused.values:
        detail["error"] = refused.values["error"]
    db.session.rollback()  # nothing half-done of the refused sign-in is kept (an account it was making included)
    user = db.session.get(User, user_id) if user_id is not None else None
    log.warning("single sign-on refused: %s via %s from %s%s", refused.reason, provider_key, client.ip,
                f" (user {user.id})" if user is not None else "")
    if tenant_id is not None:
        record_security_event(tenant_id, "sso_refused", user_id=user.id if user else None, client=client, **detail)
    elif user is not None:
        record_account_event(user, "sso_refused", client, **detail)
    db.session.commit()
