"""Late-payment reminders: an e-mail to the customer when an unpaid invoice passes one of the organisation's levels
(days after its due date), each recorded on the customer's timeline.

``send_due`` (run daily, or more often, by ``flask sales remind``) makes each reminder by inserting its row with
``INSERT … ON CONFLICT DO NOTHING`` on (invoice, level) and commits that before anything is sent: a second run, or
a second worker at the same moment, finds the row and sends nothing. Only the highest level an invoice has reached
is sent: after a pause of the job, a customer gets one reminder, not three at once.
"""
import logging
from datetime import date

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.i18n import money
from app.mail import send_mail
from app.models import Channel, Contact, PaymentReminder, SalesDocument, Tenant, ThirdParty, new_id
from app.sales import queries, states
from app.tenancy import current_tenant_id
from app.timeline.services import record_event

log = logging.getLogger("storia.sales")
DEFAULT_LEVELS = (7, 15, 30)


def levels(tenant: Tenant) -> tuple[int, ...]:
    return tuple(sorted(tenant.dunning_days)) if tenant.dunning_days is not None else DEFAULT_LEVELS


def stored_levels(days: list[int]) -> list[int] | None:
    """What the organisation stores for these levels: None when they are the defaults (which may change later)."""
    return None if tuple(days) == DEFAULT_LEVELS else days


def billing_address(invoice: SalesDocument) -> str:
    """Where a reminder goes: the invoice's contact's first e-mail, else the customer's first e-mail ("" if none)."""
    owners = [(Channel.contact_id == invoice.contact_id)] if invoice.contact_id else []
    owners.append(Channel.thirdparty_id == invoice.thirdparty_id)
    for owner in owners:
        address = db.session.scalar(select(Channel.value).where(owner, Channel.kind == "email").order_by(Channel.position).limit(1))
        if address:
            return address
    return ""


def _claim(invoice: SalesDocument, level: int, sent_to: str) -> bool:
    """Insert the reminder's row; True when this run made it (and so sends it)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(PaymentReminder).values(tenant_id=current_tenant_id(), id=new_id(), invoice_id=invoice.id, level=level,
                                          sent_to=sent_to).on_conflict_do_nothing(
        index_elements=["tenant_id", "invoice_id", "level"]).returning(PaymentReminder.id)
    made = db.session.execute(stmt).scalar() is not None
    db.session.commit()  # claimed (or not) for good before anything is sent
    return made


def _mail(tenant: Tenant, invoice: SalesDocument, customer: str, address: str, level: int) -> None:
    with force_locale(tenant.locale):
        subject = _("Reminder: invoice %(number)s is overdue", number=invoice.number)
        body = "\n".join([
            _("Hello %(customer)s,", customer=customer), "",
            _("Our invoice %(number)s of %(date)s was due on %(due)s. %(amount)s is still to be paid.",
              number=invoice.number, date=format_date(invoice.issued_on, "long"), due=format_date(invoice.due_on, "long"),
              amount=money(invoice.balance, invoice.currency)),
            _("If you have already paid it, thank you, and please ignore this message."), "",
            tenant.name, tenant.legal_details or "",
        ])
    send_mail(address, subject, body.rstrip() + "\n")


def send_due(on: date | None = None) -> int:
    """Make (and e-mail) every reminder due in the organisation in scope; returns how many were made."""
    tenant = db.session.get(Tenant, current_tenant_id())
    steps = levels(tenant)
    on = on or queries.today()
    if not steps:
        return 0
    overdue = db.session.scalars(select(SalesDocument).where(states.condition("overdue", on))
                                 .order_by(SalesDocument.due_on).limit(5000)).all()
    sent = dict(db.session.execute(select(PaymentReminder.invoice_id, func.max(PaymentReminder.level))  # one query, not one per invoice
                                   .where(PaymentReminder.invoice_id.in_([i.id for i in overdue]))
                                   .group_by(PaymentReminder.invoice_id)).all()) if overdue else {}
    made = 0
    for invoice in overdue:
        late = (on - invoice.due_on).days
        reached = [level for level in steps if level <= late]
        if not reached or sent.get(invoice.id, 0) >= reached[-1]:
            continue
        level = reached[-1]
        address = billing_address(invoice)
        if not _claim(invoice, level, address):
            continue
        made += 1
        customer = db.session.scalar(select(ThirdParty.name).where(ThirdParty.id == invoice.thirdparty_id)) or ""
        if invoice.contact_id:
            contact = db.session.scalar(select(Contact).where(Contact.id == invoice.contact_id))
            customer = contact.full_name if contact else customer
        with force_locale(tenant.locale):
            body = (_("Sent to %(address)s, %(days)d days after the due date.", address=address, days=level) if address
                    else _("Not sent: the customer has no e-mail address. %(days)d days after the due date.", days=level))
        record_event(thirdparty_id=invoice.thirdparty_id, contact_id=invoice.contact_id, kind="payment_reminder_sent",
                     subject_type="invoice", subject_id=invoice.id, actor_id=None, title=invoice.number or "", body=body,
                     payload={"total": str(invoice.balance), "currency": invoice.currency, "level": level,
                              "thread": queries.thread_of(invoice)},
                     required_right="invoice.read")
        db.session.commit()
        if address:
            try:
                _mail(tenant, invoice, customer, address, level)
            except Exception:  # the reminder is recorded; a mail failure is logged, never sent twice
                log.exception("could not e-mail a payment reminder to a recipient at %s", address.rpartition("@")[2])
    return made
