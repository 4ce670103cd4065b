"""Contracts and subscriptions: renewing invoices the next period and moves the contract on; the renewals and
expiries coming up."""
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.extensions import db
from app.models import SalesDocument, Tenant
from app.permissions import Viewer
from app.sales import services
from app.sales.queries import visible

STEP = {"monthly": relativedelta(months=1), "quarterly": relativedelta(months=3), "yearly": relativedelta(years=1)}


def period_start(contract: SalesDocument, n: int) -> date:
    """The first day of the contract's period number ``n`` (0 is the first), counted from its start: a contract
    from 31 January runs 31 January, 28 February, 31 March… (never drifting to the 28th)."""
    return contract.starts_on + STEP[contract.period] * n


def _period_number(contract: SalesDocument, start: date) -> int:
    n = 0
    while period_start(contract, n) < start:
        n += 1
    return n


def period_end(contract: SalesDocument, n: int) -> date:
    """The last day of period number ``n`` (never after the contract's end)."""
    end = period_start(contract, n + 1) - timedelta(days=1)
    return min(end, contract.ends_on) if contract.ends_on else end


def renewable(contract: SalesDocument) -> bool:
    return (contract.kind == "contract" and contract.status == "validated" and contract.next_on is not None
            and (contract.ends_on is None or contract.next_on <= contract.ends_on))


def renew(viewer: Viewer, contract: SalesDocument, *, idempotency_key: str | None = None):
    """The draft invoice of the contract's next period (its lines, titled with the period), and the contract moved
    on to the period after; both in one transaction, recorded on the timeline. A retried submission (same key)
    changes nothing and returns the first invoice."""
    if idempotency_key and (made := services.made_with(idempotency_key)) is not None:
        return made, False
    if not renewable(services.locked(contract)):
        raise services.SalesError(_l("This contract has no period left to invoice."))
    n = _period_number(contract, contract.next_on)
    start, end = contract.next_on, period_end(contract, n)
    with force_locale(db.session.get(Tenant, contract.tenant_id).locale):  # printed on the invoice: the organisation's language
        title = f"{contract.title or contract.number} · {format_date(start, 'short')} – {format_date(end, 'short')}"
    contract.next_on = period_start(contract, n + 1)
    services.record_step(viewer, contract, "contract_renewed", body=title, period_start=start.isoformat(), period_end=end.isoformat())
    return services.make_from(viewer, contract, "invoice", idempotency_key=idempotency_key, title=title[:200])


def upcoming(viewer: Viewer, on: date, days: int = 60) -> tuple[list[SalesDocument], list[SalesDocument]]:
    """Active contracts to renew within ``days`` (or already due), and those ending within ``days``."""
    horizon = on + timedelta(days=days)
    active = (SalesDocument.kind == "contract") & (SalesDocument.status == "validated")
    renewals = db.session.scalars(visible(select(SalesDocument).where(  # periods left to invoice, even of an ended one
        active, SalesDocument.next_on <= horizon,
        or_(SalesDocument.ends_on.is_(None), SalesDocument.next_on <= SalesDocument.ends_on)), viewer)
        .order_by(SalesDocument.next_on).limit(200)).all()
    endings = db.session.scalars(visible(select(SalesDocument).where(
        active, SalesDocument.ends_on >= on, SalesDocument.ends_on <= horizon), viewer)
        .order_by(SalesDocument.ends_on).limit(200)).all()
    return renewals, endings
