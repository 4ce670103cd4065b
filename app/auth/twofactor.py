"""Two-factor sign-in: the authenticator app (TOTP), recovery codes, remembered devices, the admin's reset.

Domain functions only: they take the user and the client as arguments and never read the request, the session or the
current user (the views are in ``twofactor_routes.py``; the sign-in step itself in ``signin.py``). Nothing secret is
stored as it is (docs/architecture.md, "Two-factor sign-in"):

* the authenticator's secret is encrypted with Fernet under a key derived from ``SECRET_KEY`` for this purpose only,
  so a database dump alone cannot make codes (``SECRET_KEY_FALLBACKS`` still decrypt after a key rotation);
* recovery codes are kept as keyed hashes (HMAC-SHA256, key derived from ``SECRET_KEY``): they are random (about
  49 bits each), so a slow hash would add nothing a secret key does not, and a keyed hash is looked up directly;
* a remembered device is the SHA-256 of a random 256-bit token, like the session tokens.
"""
import base64
import enum
import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from app import grants
from app.audit.services import ClientInfo, record_account_event
from app.auth import passwords, services
from app.extensions import db
from app.models import Membership, RecoveryCode, RememberedDevice, TwoFactor, User, utcnow
from app.permissions import Viewer, load_viewer

ISSUER = "Storia"
STEP_SECONDS = 30  # RFC 6238's time step, what every authenticator app uses
DRIFT_STEPS = 1  # a code of the step before or after is accepted too (a phone's clock a little off)
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_LENGTH = 10  # about 49 bits of randomness per code
DEVICE_DAYS = 30
SETUP_MAX_AGE = timedelta(hours=24)  # how long a secret shown for setting up may still be confirmed


class Outcome(enum.Enum):
    CODE = "code"  # a code of the authenticator app
    RECOVERY = "recovery"  # a recovery code, now used up
    WRONG = "wrong"
    THROTTLED = "throttled"


class ResetRefused(Exception):
    """An admin's reset of a member's second factor that the rules refuse; the message is shown to them.
    ``forbidden``: the rights rule refused it (a 403), rather than there being nothing to reset."""

    def __init__(self, message: str, *, forbidden: bool):
        super().__init__(message)
        self.forbidden = forbidden


def _keys() -> list[bytes]:
    config = current_app.config
    return [k.encode() if isinstance(k, str) else k for k in [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]]


def _derive(secret_key: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"storia.two-factor.{purpose}".encode()).derive(secret_key)


def _fernet(purpose: str) -> MultiFernet:
    """Encrypts with the current key, decrypts with it or a fallback (a rotated ``SECRET_KEY``)."""
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(key, purpose))) for key in _keys()])


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, interval=STEP_SECONDS, digits=6)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (within the drift allowed) whose code is ``code``, or None. Every candidate is computed and
    compared in constant time, so the answer's timing says nothing about which step matched."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(_totp(secret).generate_otp(step), code):
            found = step
    return found


# --- setting it up ---------------------------------------------------------------------------------------------

def seal(purpose: str, user: User, value) -> str:
    """``value`` (JSON) sealed for ``user``: encrypted and signed, readable only by this server, with its time."""
    return _fernet(purpose).encrypt(json.dumps({"u": str(user.id), "v": value}).encode()).decode()


def unseal(purpose: str, token: str | None, user: User, max_age: timedelta):
    """The value sealed in ``token`` for ``user``, or None (forged, another person's, older than ``max_age``)."""
    try:
        payload = json.loads(_fernet(purpose).decrypt((token or "").encode(), ttl=int(max_age.total_seconds())))
    except (InvalidToken, ValueError):
        return None
    return payload.get("v") if isinstance(payload, dict) and payload.get("u") == str(user.id) else None


def new_setup(user: User) -> str:
    """A new secret for ``user`` to scan, sealed (the browser keeps it while the person sets up: nothing is stored
    until a code confirms it)."""
    return seal("setup", user, pyotp.random_base32())


def setup_secret(token: str | None, user: User, *, max_age: timedelta = SETUP_MAX_AGE) -> str | None:
    """The secret sealed in a setup ``token`` made for ``user``, or None."""
    secret = unseal("setup", token, user, max_age)
    return secret if isinstance(secret, str) else None


def provisioning_uri(secret: str, user: User) -> str:
    return _totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code(secret: str, user: User) -> str:
    """The setup QR code as a PNG ``data:`` URI (the CSP allows ``img-src data:``; nothing is fetched; a PNG, unlike
    an SVG, can carry no script)."""
    return segno.make(provisioning_uri(secret, user), error="m").png_data_uri(scale=5, border=4, dark="#111", light="#fff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it in by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def has_two_factor(user_id: uuid.UUID) -> bool:
    return db.session.get(TwoFactor, user_id) is not None


def enable(user: User, token: str | None, code: str, client: ClientInfo) -> list[str] | None:
    """Turn two-factor sign-in on for ``user`` when ``code`` is a current code of the secret in ``token``; return
    the recovery codes (to show once), or None when the code (or the token) is not right."""
    secret = setup_secret(token, user)
    step = _matching_step(secret, code) if secret else None
    if step is None or has_two_factor(user.id):
        return None
    db.session.add(TwoFactor(user_id=user.id, secret=_fernet("secret").encrypt(secret.encode()).decode(), last_used_step=step))
    codes = _new_recovery_codes(user.id)
    record_account_event(user, "two_factor_enabled", client)
    db.session.commit()
    return codes


# --- recovery codes ----------------------------------------------------------------------------------------------

def _normalised_recovery(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c not in " -\t")


def _recovery_hashes(user_id: uuid.UUID, code: str) -> list[str]:
    """The keyed hash of ``code`` under the current key and each fallback (a rotated key still finds old codes)."""
    message = f"{user_id}:{code}".encode()
    return [hmac.new(_derive(key, "recovery"), message, hashlib.sha256).hexdigest() for key in _keys()]


def _new_recovery_codes(user_id: uuid.UUID) -> list[str]:
    """Replace ``user_id``'s recovery codes by ten new ones; return them as shown (caller commits)."""
    codes = {"".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODES)}
    while len(codes) < RECOVERY_CODES:  # a repeat among ten 49-bit codes will not happen; stay exact anyway
        codes.add("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=_recovery_hashes(user_id, code)[0]) for code in codes)
    return sorted(f"{code[:5]}-{code[5:]}" for code in codes)


def recovery_codes_left(user_id: uuid.UUID) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))


def _use_code(user: User, code: str) -> bool:
    """Spend a current code of ``user``'s authenticator: True once per time step (a replayed code is refused, also
    when two requests race: the step moves on in one conditional UPDATE). Caller commits."""
    row = db.session.get(TwoFactor, user.id)
    if row is None:
        return False
    secret = _fernet("secret").decrypt(row.secret.encode()).decode()
    step = _matching_step(secret, code)
    if step is None:
        return False
    moved = db.session.execute(
        update(TwoFactor).where(TwoFactor.user_id == user.id,
                                or_(TwoFactor.last_used_step.is_(None), TwoFactor.last_used_step < step))
        .values(last_used_step=step).execution_options(synchronize_session=False))
    return moved.rowcount == 1


def _use_recovery_code(user: User, code: str) -> bool:
    """Spend one of ``user``'s unused recovery codes (once: a conditional UPDATE). Caller commits."""
    code = _normalised_recovery(code)
    if len(code) != RECOVERY_LENGTH or set(code) - set(RECOVERY_ALPHABET):
        return False
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
                                   RecoveryCode.code_hash.in_(_recovery_hashes(user.id, code)))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    return used.rowcount == 1


# --- the sign-in step --------------------------------------------------------------------------------------------

def check_sign_in_code(user: User, code: str, client: ClientInfo, *, remember: bool) -> tuple[Outcome, str | None]:
    """The second step of ``user``'s sign-in: ``code`` is a code of their app or a recovery code.

    Throttled as passwords are (the same budget per account and per address, ``login_attempt``): past it nothing is
    checked; a wrong code counts as a failed sign-in. Returns the outcome and, when the code passed and ``remember``
    is set, the token of the remembered device (for its cookie).
    """
    if services.sign_in_throttled(user.email, client.ip):
        record_account_event(user, "two_factor_throttled", client)
        db.session.commit()
        return Outcome.THROTTLED, None
    if _use_code(user, code):
        outcome = Outcome.CODE
    elif _use_recovery_code(user, code):
        outcome = Outcome.RECOVERY
        record_account_event(user, "recovery_code_used", client, left=recovery_codes_left(user.id))
    else:
        services.count_failed_sign_in(user.email, client.ip)
        record_account_event(user, "two_factor_failed", client)
        db.session.commit()
        return Outcome.WRONG, None
    token = _remember_device(user.id) if remember else None
    db.session.commit()
    return outcome, token


def _device_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _remember_device(user_id: uuid.UUID) -> str:
    """Remember a browser for ``DEVICE_DAYS``: return the token for its cookie (caller commits)."""
    now = utcnow()
    db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user_id, RememberedDevice.expires_at <= now))
    token = secrets.token_urlsafe(32)
    db.session.add(RememberedDevice(user_id=user_id, token_hash=_device_hash(token), expires_at=now + timedelta(days=DEVICE_DAYS)))
    return token


def needs_second_factor(user: User, device_token: str | None) -> bool:
    """True when ``user`` uses two-factor sign-in and this browser is not one of their remembered devices."""
    if not has_two_factor(user.id):
        return False
    if not device_token:
        return True
    row = db.session.scalar(select(RememberedDevice).where(RememberedDevice.token_hash == _device_hash(device_token)))
    return row is None or row.user_id != user.id or row.expires_at <= utcnow()


def _remove(user_id: uuid.UUID) -> None:
    """Remove ``user_id``'s authenticator, recovery codes and remembered devices (caller commits)."""
    for model in (TwoFactor, RecoveryCode, RememberedDevice):
        db.session.execute(delete(model).where(model.user_id == user_id).execution_options(synchronize_session=False))


# --- managing it from the account page ---------------------------------------------------------------------------

def disable(user: User, client: ClientInfo, *, password: str = "", code: str = "") -> bool:
    """Turn two-factor sign-in off, confirmed by ``password`` or a current ``code``; False (nothing changed) when
    neither is right. Every remembered device is forgotten with it."""
    confirmed = bool(code) and _use_code(user, code)
    confirmed = confirmed or (bool(password) and passwords.verify_password(user.password_hash, password))
    if not confirmed:
        if code:
            record_account_event(user, "two_factor_failed", client, step="disable")
        db.session.commit()
        return False
    _remove(user.id)
    record_account_event(user, "two_factor_disabled", client)
    db.session.commit()
    return True


def regenerate_recovery_codes(user: User, code: str, client: ClientInfo) -> list[str] | None:
    """Replace ``user``'s recovery codes, confirmed by a current ``code`` of their app; the new ones (to show once),
    or None when the code is not right."""
    if not _use_code(user, code):
        record_account_event(user, "two_factor_failed", client, step="recovery_codes")
        db.session.commit()
        return None
    codes = _new_recovery_codes(user.id)
    record_account_event(user, "recovery_codes_regenerated", client)
    db.session.commit()
    return codes


# --- an administrator's reset ------------------------------------------------------------------------------------

def reset_refusal(viewer: Viewer, member: Membership) -> ResetRefused | None:
    """Why ``viewer`` may not reset ``member``'s second factor now, or None when they may."""
    target = load_viewer(member.user_id)
    if member.user_id == viewer.user_id:
        return ResetRefused(str(_l("Turn off your own two-factor sign-in from your account page.")), forbidden=True)
    if target is None or not grants.may_act_on(viewer, target):
        if target is not None and target.is_owner:
            return ResetRefused(str(_l("Only an owner can reset an owner's two-factor sign-in.")), forbidden=True)
        return ResetRefused(str(_l("%(name)s has rights you do not hold: ask an owner to reset their two-factor sign-in.",
                                   name=member.user.name)), forbidden=True)
    if not has_two_factor(member.user_id):
        return ResetRefused(str(_l("%(name)s does not use two-factor sign-in.", name=member.user.name)), forbidden=False)
    return None


def reset_member(viewer: Viewer, member: Membership, client: ClientInfo, *, by: str, organisation: str) -> None:
    """Remove ``member``'s authenticator, recovery codes and remembered devices (they sign in with the password
    alone until they set it up again). Logged in every organisation they belong to: any one of them could
    otherwise weaken the account for all. :raise ResetRefused: when the rules refuse it."""
    refusal = reset_refusal(viewer, member)
    if refusal is not None:
        raise refusal
    _remove(member.user_id)
    record_account_event(member.user, "two_factor_reset", client, by=by, organisation=organisation)
    db.session.commit()


def users_with_two_factor() -> set[uuid.UUID]:
    """The members of the organisation in scope who use two-factor sign-in (one query)."""
    return set(db.session.scalars(select(TwoFactor.user_id).join(Membership, Membership.user_id == TwoFactor.user_id)))
