"""Sales-cycle metrics: how long from the first contact (and from the quote) to the signature, the win rate, and
how many days customers take to pay; for the organisation over a period, and for one customer on its card."""
import statistics
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import LOGGED_KINDS, Activity, Payment, PaymentShare, SalesDocument, ThirdParty
from app.permissions import Viewer
from app.sales.queries import visible


@dataclass(frozen=True)
class Cycle:
    quotes: int = 0  # validated in the period
    signed: int = 0
    refused: int = 0
    days_to_sign: float | None = None  # from the quote's validation to its signature (median)
    days_from_contact: float | None = None  # from the customer's first contact to its first signature (median)
    paid_invoices: int = 0
    days_to_pay: float | None = None  # from the invoice's date to the payment that settled it (median)
    customers: tuple = ()  # (customer id, first contact, first signature, days between), the latest signatures first

    @property
    def win_rate(self) -> float | None:
        """Signed quotes among those answered (signed or refused), in per cent."""
        answered = self.signed + self.refused
        return 100 * self.signed / answered if answered else None


def _days(later: datetime | date, earlier: datetime | date) -> float:
    if isinstance(later, datetime) and isinstance(earlier, datetime):
        return (later - earlier).total_seconds() / 86400
    day = (lambda d: d.date() if isinstance(d, datetime) else d)  # noqa: E731 - one moment or day, as a day
    return float((day(later) - day(earlier)).days)


def _median(values) -> float | None:
    return round(statistics.median(values), 1) if values else None


def cycle(viewer: Viewer, since: date, thirdparty_id: uuid.UUID | None = None) -> Cycle:
    """The metrics of the quotes validated and the invoices dated since ``since`` (of one customer, or of every
    customer the viewer may see)."""
    stmt = select(SalesDocument.thirdparty_id, SalesDocument.status, SalesDocument.validated_at, SalesDocument.signed_at).where(
        SalesDocument.kind == "quote", SalesDocument.status != "draft", SalesDocument.issued_on >= since)
    if thirdparty_id:
        stmt = stmt.where(SalesDocument.thirdparty_id == thirdparty_id)
    quotes = db.session.execute(visible(stmt, viewer)).all()
    signed = [q for q in quotes if q.status == "signed" and q.signed_at]
    first_signed: dict = {}
    for q in signed:
        first_signed[q.thirdparty_id] = min(q.signed_at, first_signed.get(q.thirdparty_id, q.signed_at))
    firsts = first_contacts(list(first_signed))
    return Cycle(
        quotes=len(quotes), signed=len(signed), refused=sum(1 for q in quotes if q.status == "refused"),
        days_to_sign=_median([_days(q.signed_at, q.validated_at) for q in signed if q.validated_at]),
        days_from_contact=_median([_days(at, firsts[tp]) for tp, at in first_signed.items() if tp in firsts]),
        customers=tuple(sorted(((tp, firsts[tp], at, round(_days(at, firsts[tp]), 1)) for tp, at in first_signed.items()
                                if tp in firsts), key=lambda row: row[2], reverse=True)),
        **_payment_delays(viewer, since, thirdparty_id),
    )


def first_contacts(thirdparty_ids: list) -> dict:
    """Each customer's first contact: its first logged call, meeting, e-mail or letter, else when it was created."""
    if not thirdparty_ids:
        return {}
    logged = dict(db.session.execute(select(Activity.thirdparty_id, func.min(Activity.starts_at)).where(
        Activity.thirdparty_id.in_(thirdparty_ids), Activity.kind.in_(LOGGED_KINDS)).group_by(Activity.thirdparty_id)).all())
    created = dict(db.session.execute(select(ThirdParty.id, ThirdParty.created_at).where(ThirdParty.id.in_(thirdparty_ids))).all())
    return {tp: min(filter(None, (logged.get(tp), created.get(tp)))) for tp in thirdparty_ids if logged.get(tp) or created.get(tp)}


def _payment_delays(viewer: Viewer, since: date, thirdparty_id) -> dict:
    """Paid invoices dated since ``since`` and the median days from their date to the last payment that settled them."""
    last_payment = (select(PaymentShare.invoice_id, func.max(Payment.received_on).label("paid_on"))
                    .join(Payment, (Payment.tenant_id == PaymentShare.tenant_id) & (Payment.id == PaymentShare.payment_id))
                    .group_by(PaymentShare.invoice_id).subquery())
    stmt = (select(SalesDocument.issued_on, last_payment.c.paid_on)
            .join(last_payment, last_payment.c.invoice_id == SalesDocument.id)
            .where(SalesDocument.kind == "invoice", SalesDocument.status == "validated", SalesDocument.issued_on >= since,
                   SalesDocument.total_gross <= SalesDocument.settled))
    if thirdparty_id:
        stmt = stmt.where(SalesDocument.thirdparty_id == thirdparty_id)
    rows = db.session.execute(visible(stmt, viewer)).all()
    return {"paid_invoices": len(rows), "days_to_pay": _median([max(0.0, _days(paid, issued)) for issued, paid in rows])}


PERIODS = (3, 6, 12, 24)  # months a report may look back


def since(months: int, today: date) -> date:
    return today - timedelta(days=round(months * 30.44))
