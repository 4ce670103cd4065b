"""Password hashing (argon2id) and the password policy (QUALITY T14)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 128
# The 30,000 most common passwords of public breach corpora, shipped with zxcvbn.
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
_hasher = PasswordHasher()
_dummy_hash: str | None = None


def configure(time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Set the hasher's cost parameters (from the app's configuration; tests use cheaper ones)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _dummy_hash = None


def _equaliser() -> str:
    """A hash checked for unknown e-mails, so that a wrong address costs as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("storia-timing-equaliser")
    return _dummy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, spend the same time and return False."""
    try:
        return _hasher.verify(password_hash or _equaliser(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Return why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 4:
        return _l("This password is too common; choose another.")
    for personal in (email.split("@")[0].lower(), name.lower().replace(" ", "")):
        if len(personal) >= 4 and personal in lowered.replace(" ", ""):
            return _l("The password must not contain your name or e-mail.")
    return None
