"""Payments: money received from a customer, shared out over its unpaid invoices, each share settling part of one."""
import uuid
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.idempotency import save_once, saved_with
from app.models import Payment, PaymentShare, SalesDocument, Tenant, ThirdParty
from app.permissions import Viewer
from app.sales.queries import thread_of
from app.sales.services import SalesError
from app.tenancy import current_tenant_id
from app.timeline.services import record_event


def open_invoices(thirdparty_id: uuid.UUID, *, lock: bool = False) -> list[SalesDocument]:
    """A customer's validated invoices with something still due, the oldest due first; with ``lock``, locked and
    read again (what an earlier read of this request loaded is replaced by the locked values, app.editing)."""
    stmt = (select(SalesDocument).where(SalesDocument.thirdparty_id == thirdparty_id, SalesDocument.kind == "invoice",
                                        SalesDocument.status == "validated",
                                        SalesDocument.total_gross > SalesDocument.settled)
            .order_by(SalesDocument.due_on, SalesDocument.number))
    if lock:
        stmt = stmt.with_for_update(of=SalesDocument).execution_options(populate_existing=True)
    return db.session.scalars(stmt).all()


def record_payment(viewer: Viewer, tp: ThirdParty, *, amount: Decimal, received_on: date, method: str, reference: str,
                   shares: dict[uuid.UUID, Decimal], idempotency_key: str | None = None) -> tuple[Payment, bool]:
    """Record a payment of ``amount`` shared out as ``shares`` (invoice id → amount) over ``tp``'s open invoices.

    The invoices are locked while their balances are checked and settled, so two payments recorded at once can
    never settle more than is due. A retried submission (same key) records nothing and returns the first payment.
    :raise SalesError: when the shares do not add up to the amount, or one is more than its invoice's balance.
    """
    if (existing := made_with(idempotency_key)) is not None:
        return existing, False
    shares = {k: v for k, v in shares.items() if v}
    if sum(shares.values(), Decimal(0)) != amount:
        raise SalesError(_l("The amounts given to the invoices must add up to the payment (%(amount)s).", amount=amount))
    invoices = {inv.id: inv for inv in open_invoices(tp.id, lock=True)}
    for invoice_id, share in shares.items():
        invoice = invoices.get(invoice_id)
        if invoice is None:
            raise SalesError(_l("One of the invoices is already paid or is not this customer's."))
        if share < 0 or share > invoice.balance:
            raise SalesError(_l("%(number)s has %(due)s left to pay.", number=invoice.number, due=invoice.balance))
    tenant = db.session.get(Tenant, current_tenant_id())
    payment = Payment(thirdparty_id=tp.id, amount=amount, currency=tenant.currency, received_on=received_on,
                      method=method, reference=reference, created_by_id=viewer.user_id, idempotency_key=idempotency_key)
    for invoice_id, share in shares.items():
        payment.shares.append(PaymentShare(invoice_id=invoice_id, amount=share))
        invoices[invoice_id].settled += share

    def build():
        db.session.add(payment)
        db.session.flush()
        numbers = [invoices[i].number for i in shares]
        # A payment joins the thread of the (first) invoice it settles; one settling several chains shows in the first.
        thread = {"thread": thread_of(invoices[next(iter(shares))])} if shares else {}
        record_event(thirdparty_id=tp.id, kind="payment_received", subject_type="payment", subject_id=payment.id,
                     actor_id=viewer.user_id, title=reference, body=", ".join(numbers), required_right="payment.read",
                     payload={"total": str(amount), "currency": payment.currency, "method": method, "invoices": numbers,
                              **thread})
        return payment

    return save_once(Payment, idempotency_key, build)


def made_with(idempotency_key: str | None) -> Payment | None:
    """The payment a submission with this key already recorded (a double tap or a retry)."""
    return saved_with(Payment, idempotency_key)


def payments_of(invoice_id: uuid.UUID) -> list[tuple[Payment, Decimal]]:
    """The payments that settled part of an invoice, with the part each settled, oldest first."""
    rows = db.session.execute(select(Payment, PaymentShare.amount)
                              .join(PaymentShare, (PaymentShare.tenant_id == Payment.tenant_id) & (PaymentShare.payment_id == Payment.id))
                              .where(PaymentShare.invoice_id == invoice_id).order_by(Payment.received_on, Payment.created_at))
    return [(p, amount) for p, amount in rows.all()]
