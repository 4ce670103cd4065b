"""The details of a security event in words, in the reader's language (issue 14: the log showed ``path:``,
``method:``, ``right: admin.users`` and ``reason:`` raw, in French and Italian too).

Events store their details as short codes (``app.audit.services.record_security_event``); they are put in words
only when shown, so the log reads in each viewer's language and an entry never changes. A key this module does
not know is shown as it was recorded (the template escapes it), so a new detail is never hidden.
"""
from flask_babel import lazy_gettext as _l

from app.admin.forms import SettingsForm
from app.audit.services import SECURITY_EVENT_KINDS
from app.permissions import BUILTIN_ROLES, RIGHTS

LABELS = {
    "path": _l("Page"),
    "method": _l("Request"),
    "right": _l("Right needed"),
    "reason": _l("Reason"),
    "member": _l("Member"),
    "email": _l("E-mail"),
    "role": _l("Role"),
    "old": _l("Previous role"),
    "new": _l("New role"),
    "group": _l("Group"),
    "members": _l("Members"),
    "added": _l("Rights given"),
    "removed": _l("Rights taken away"),
    "fields": _l("Settings changed"),
    "slug": _l("Web address"),
    "left": _l("Recovery codes left"),
    "by": _l("By"),
    "organisation": _l("Organisation"),
    "provider": _l("Sign-in provider"),
}

# A page opened is what every entry with a path is about: only other requests are worth a word.
QUIET_METHODS = {"GET", "HEAD"}
METHODS = {"POST": _l("a form was sent")}
REASONS = {"deactivated": _l("this member is deactivated")}


def _right(code: str) -> str:
    return str(RIGHTS[code]) if code in RIGHTS else code


def _role(key: str) -> str:
    return str(BUILTIN_ROLES[key][0]) if key in BUILTIN_ROLES else key


def _setting(name: str) -> str:
    field = getattr(SettingsForm, name, None)
    label = (field.args[:1] or [field.kwargs.get("label")])[0] if field is not None and hasattr(field, "args") else None
    return str(label) if label else name


VALUES = {
    "right": _right,
    "role": _role,
    "old": _role,
    "new": _role,
    "added": lambda codes: "; ".join(_right(code) for code in codes.split()),
    "removed": lambda codes: "; ".join(_right(code) for code in codes.split()),
    "fields": lambda names: "; ".join(_setting(name) for name in names.split()),
    "method": lambda method: str(METHODS.get(method, method)),
    "reason": lambda reason: str(SECURITY_EVENT_KINDS.get(reason) or REASONS.get(reason) or reason),
}


def describe(detail: dict | None) -> list[tuple[str, str]]:
    """``(label, value)`` pairs of an event's details, in words; unknown keys and values as recorded."""
    pairs = []
    for key, value in (detail or {}).items():
        value = str(value)
        if key == "method" and value in QUIET_METHODS:
            continue
        words = VALUES.get(key)
        pairs.append((str(LABELS.get(key, key)), words(value) if words and value else value))
    return pairs
