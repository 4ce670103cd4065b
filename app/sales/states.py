"""Where a sales document stands: its state on a given day, in Python for one document and in SQL for lists.

A quote expires after its validity date; an order is to ship, partly shipped or shipped; an invoice is unpaid,
partly paid, paid or overdue after its due date; a contract is active, due for renewal within a month, or ended.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_

from app.models import SalesDocument

RENEWAL_NOTICE = timedelta(days=30)  # a contract shows "renewal due" this long before its next period starts

LABELS = {
    "quote": {"draft": _l("Draft"), "validated": _l("Validated"), "sent": _l("Sent"), "signed": _l("Signed"),
              "refused": _l("Refused"), "expired": _l("Expired")},
    "order": {"draft": _l("Draft"), "validated": _l("To ship"), "partial": _l("Partly shipped"), "shipped": _l("Shipped")},
    "invoice": {"draft": _l("Draft"), "unpaid": _l("Unpaid"), "partial": _l("Partly paid"), "paid": _l("Paid"),
                "overdue": _l("Overdue")},
    "credit_note": {"draft": _l("Draft"), "credited": _l("Credit note")},
    "contract": {"draft": _l("Draft"), "active": _l("Active"), "renewal": _l("Renewal due"), "ended": _l("Ended")},
}
# The filters each book's list offers (a key of LABELS, or "due": every invoice with something left to pay).
FILTERS = {
    "quotes": ("draft", "validated", "sent", "signed", "refused", "expired"),
    "orders": ("draft", "validated", "partial", "shipped"),
    "invoices": ("draft", "due", "overdue", "partial", "paid", "credited"),
    "contracts": ("draft", "active", "renewal", "ended"),
}
FILTER_LABELS = {"due": _l("To be paid"), "credited": _l("Credit notes")}


@dataclass(frozen=True)
class State:
    key: str
    label: str


def state_key(doc: SalesDocument, on: date) -> str:
    if doc.is_draft:
        return "draft"
    if doc.kind == "quote":
        return "expired" if doc.status in ("validated", "sent") and doc.valid_until and doc.valid_until < on else doc.status
    if doc.kind == "order":
        return doc.status
    if doc.kind == "credit_note":
        return "credited"
    if doc.kind == "contract":
        left = doc.next_on is not None and (doc.ends_on is None or doc.next_on <= doc.ends_on)  # a period to invoice
        if left and doc.next_on <= on + RENEWAL_NOTICE:
            return "renewal"
        return "ended" if doc.ends_on and doc.ends_on < on else "active"
    if doc.balance <= 0:
        return "paid"
    if doc.due_on and doc.due_on < on:
        return "overdue"
    return "partial" if doc.settled > 0 else "unpaid"


def state(doc: SalesDocument, on: date) -> State:
    key = state_key(doc, on)
    return State(key, str(LABELS[doc.kind][key]))


def filter_label(book_name: str, key: str) -> str:
    if key in FILTER_LABELS:
        return str(FILTER_LABELS[key])
    kind = {"quotes": "quote", "orders": "order", "invoices": "invoice", "contracts": "contract"}[book_name]
    return str(LABELS[kind][key])


def condition(key: str, on: date):
    """The SQL condition of the documents in state ``key`` on day ``on`` (None: no such filter, everything)."""
    doc = SalesDocument
    validated = doc.status == "validated"
    current = or_(doc.valid_until.is_(None), doc.valid_until >= on)
    not_due_yet = or_(doc.due_on.is_(None), doc.due_on >= on)
    due = (doc.kind == "invoice") & validated & (doc.total_gross > doc.settled)
    contract = (doc.kind == "contract") & validated
    renewal = contract & (doc.next_on <= on + RENEWAL_NOTICE) & or_(doc.ends_on.is_(None), doc.next_on <= doc.ends_on)
    conditions = {
        "draft": doc.status == "draft",
        "validated": validated & current,
        "sent": (doc.status == "sent") & current,
        "signed": doc.status == "signed",
        "refused": doc.status == "refused",
        "expired": doc.status.in_(("validated", "sent")) & (doc.valid_until < on),
        "partial": or_((doc.kind == "order") & (doc.status == "partial"), due & (doc.settled > 0) & not_due_yet),
        "shipped": doc.status == "shipped",
        "due": due,
        "overdue": due & (doc.due_on < on),
        "paid": (doc.kind == "invoice") & validated & (doc.total_gross <= doc.settled),
        "credited": doc.kind == "credit_note",
        "active": contract & ~renewal & or_(doc.ends_on.is_(None), doc.ends_on >= on),
        "renewal": renewal,
        "ended": contract & ~renewal & (doc.ends_on < on),
    }
    return conditions.get(key)
