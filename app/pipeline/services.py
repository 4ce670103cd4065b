"""Opportunities: open one for a customer, change it, move it between stages, win or lose it, reopen it, each step
with its timeline event in the same transaction; and what the board, the list and the customer card show."""
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm.exc import StaleDataError

from app.editing import lock, merge_edit
from app.extensions import db
from app.idempotency import save_once
from app.models import Opportunity, PipelineStage, Tenant, ThirdParty, utcnow
from app.models.sales import from_units
from app.pagination import page_of, split_page
from app.permissions import Viewer, only_mine
from app.pipeline.stages import get_stage
from app.tenancy import current_tenant_id
from app.timeline.services import escape_like, record_event

CARDS_PER_COLUMN = 30  # a column shows this many cards (the list has the rest); its count and totals cover all
CLOSED_PROBABILITY = {"won": 100, "lost": 0}
CENT = Decimal("0.01")


class PipelineError(Exception):
    """A step the opportunity's state does not allow; ``message`` says why, for the person who tried."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StaleOpportunity(Exception):
    """Someone else saved the opportunity at the same moment (the backstop: saves lock it first)."""


def visible(stmt, viewer: Viewer):
    """Restrict a query on Opportunity to the customers ``viewer`` may see ("only mine")."""
    condition = only_mine(viewer, Opportunity.tenant_id, Opportunity.thirdparty_id)
    return stmt if condition is None else stmt.where(condition)


def get_opportunity(viewer: Viewer, opportunity_id: uuid.UUID) -> Opportunity | None:
    """The opportunity if it exists in this tenant and ``viewer`` may see its customer."""
    return db.session.scalar(visible(select(Opportunity).where(Opportunity.id == opportunity_id), viewer))


def _event(viewer: Viewer, opp: Opportunity, kind: str, body: str = "", **payload) -> None:
    record_event(thirdparty_id=opp.thirdparty_id, contact_id=opp.contact_id, kind=kind, subject_type="opportunity",
                 subject_id=opp.id, actor_id=viewer.user_id, title=opp.title, body=body, required_right="quote.read",
                 payload={"amount": str(Decimal(opp.amount).quantize(CENT)), "currency": opp.currency, **payload})


def create_opportunity(viewer: Viewer, tp: ThirdParty, values: dict, *,
                       idempotency_key: str | None = None) -> tuple[Opportunity, bool]:
    """A new open opportunity for ``tp``; a retried submission (same key) returns the first one and False.

    ``values``: title, contact_id, amount, stage_id, probability (None: the stage's), expected_close_on, owner_id.
    """
    def build():
        stage = get_stage(values["stage_id"])
        probability = stage.probability if values.get("probability") is None else values["probability"]
        currency = db.session.get(Tenant, current_tenant_id()).currency
        opp = Opportunity(thirdparty_id=tp.id, currency=currency, created_by_id=viewer.user_id,
                          idempotency_key=idempotency_key, **{**values, "probability": probability})
        db.session.add(opp)
        db.session.flush()
        _event(viewer, opp, "opportunity_created", stage=stage.name)
        return opp

    return save_once(Opportunity, idempotency_key, build)


EDITABLE = ("title", "contact_id", "amount", "stage_id", "probability", "expected_close_on", "owner_id")


def snapshot(opp: Opportunity) -> dict:
    """The values the edit form shows (its ``base``, and what a conflict is checked against)."""
    return {name: getattr(opp, name) for name in EDITABLE}


def update_opportunity(viewer: Viewer, opp: Opportunity, submitted: dict, *, version: int, base: dict | None) -> None:
    """Save an edit made on ``version`` of the opportunity, merged with a concurrent edit of other fields. A new stage
    brings its probability, unless the edit also changed the probability (a won or lost one keeps 100 or 0 %); moving
    records ``opportunity_moved``.

    :raise EditConflict: when someone else changed the same fields meanwhile (never a silent overwrite).
    """
    values = merge_edit(snapshot(lock(opp)), submitted, stale=version != opp.version, base=base)
    old_stage, new_stage = get_stage(opp.stage_id), get_stage(values["stage_id"])
    probability = values.get("probability")
    if probability is None or (new_stage.id != old_stage.id and probability == opp.probability):
        probability = new_stage.probability
    if not opp.is_open:
        probability = CLOSED_PROBABILITY[opp.status]
    for name, value in {**values, "probability": probability}.items():
        setattr(opp, name, value)
    if new_stage.id != old_stage.id:
        _event(viewer, opp, "opportunity_moved", **{"from": old_stage.name, "to": new_stage.name})
    _commit()


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError:  # the version counter refused our UPDATE: someone saved in between
        db.session.rollback()
        raise StaleOpportunity() from None


def move_opportunity(viewer: Viewer, opp: Opportunity, stage: PipelineStage) -> bool:
    """Put an open opportunity in ``stage``, with that stage's probability; False when it is already there.

    :raise PipelineError: when it is won or lost.
    :raise StaleOpportunity: when someone else saved it at the same moment.
    """
    if not lock(opp).is_open:
        raise PipelineError(_l("Only an open opportunity moves between stages: reopen it first."))
    if stage.id == opp.stage_id:
        return False
    old_stage = get_stage(opp.stage_id)
    opp.stage_id, opp.probability = stage.id, stage.probability
    _event(viewer, opp, "opportunity_moved", **{"from": old_stage.name, "to": stage.name})
    _commit()
    return True


def close_opportunity(viewer: Viewer, opp: Opportunity, outcome: str, reason: str = "") -> None:
    """Mark an open opportunity won (probability 100 %) or lost (0 %), with the reason given (a lost one needs it).

    :raise PipelineError: when it is already won or lost.
    """
    if not lock(opp).is_open:
        raise PipelineError(_l("This opportunity is already closed."))
    opp.status, opp.closed_at = outcome, utcnow()
    opp.close_reason = reason[:200] or None
    opp.probability = CLOSED_PROBABILITY[outcome]
    _event(viewer, opp, f"opportunity_{outcome}", body=reason, stage=get_stage(opp.stage_id).name)
    _commit()


def win_for_signed_quote(viewer: Viewer, quote) -> None:
    """A quote made for an open opportunity was signed: the opportunity is won, in the quote's transaction (the
    caller commits). Nothing happens for a quote without one, or when the deal is closed already."""
    if not quote.opportunity_id:
        return
    opp = get_opportunity(viewer, quote.opportunity_id)
    if opp is None or not lock(opp).is_open:
        return
    reason = str(_l("Quote %(number)s signed", number=quote.number or ""))
    opp.status, opp.closed_at, opp.close_reason = "won", utcnow(), reason
    opp.probability = CLOSED_PROBABILITY["won"]
    _event(viewer, opp, "opportunity_won", body=reason, stage=get_stage(opp.stage_id).name)


def open_opportunities(viewer: Viewer, thirdparty_id) -> list[Opportunity]:
    """The customer's open opportunities ``viewer`` may see, newest first (offered when a quote is made)."""
    if not viewer.can("quote.read"):
        return []
    stmt = select(Opportunity).where(Opportunity.thirdparty_id == thirdparty_id, Opportunity.status == "open")
    return db.session.scalars(visible(stmt, viewer).order_by(Opportunity.created_at.desc())).all()


def reopen_opportunity(viewer: Viewer, opp: Opportunity) -> None:
    """Open a won or lost opportunity again, in its stage, with that stage's probability.

    :raise PipelineError: when it is open.
    """
    if lock(opp).is_open:
        raise PipelineError(_l("This opportunity is open already."))
    stage = get_stage(opp.stage_id)
    opp.status, opp.closed_at, opp.close_reason, opp.probability = "open", None, None, stage.probability
    _event(viewer, opp, "opportunity_reopened", stage=stage.name)
    _commit()


# --- reading: the board, the list, the customer card ---

@dataclass
class Totals:
    """How many opportunities, their amounts, and their amounts weighted by probability."""

    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")

    def add(self, other: "Totals") -> None:
        self.count, self.amount, self.weighted = self.count + other.count, self.amount + other.amount, self.weighted + other.weighted


def _totals(count, amount_units, weighted_units) -> Totals:
    # Σ(amount × probability) is in hundredths of a unit per cent: divide by 100, round once, here.
    weighted = (Decimal(int(weighted_units or 0)) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Totals(count or 0, from_units(amount_units), from_units(weighted))


def _sums():
    units = type_coerce(Opportunity.amount, BigInteger)
    return func.count(), func.sum(units), func.sum(units * Opportunity.probability)


def _customer():
    return (ThirdParty.tenant_id == Opportunity.tenant_id) & (ThirdParty.id == Opportunity.thirdparty_id)


@dataclass(frozen=True)
class Filters:
    """What the board and the list are narrowed to (all kept in the URL)."""

    owner_id: uuid.UUID | None = None
    text: str = ""
    stage_id: uuid.UUID | None = None
    status: str = ""  # "", open, won, lost
    thirdparty_id: uuid.UUID | None = None
    page: int = 1

    def conditions(self) -> list:
        where = []
        if self.thirdparty_id:
            where.append(Opportunity.thirdparty_id == self.thirdparty_id)
        if self.owner_id:
            where.append(Opportunity.owner_id == self.owner_id)
        if self.stage_id:
            where.append(Opportunity.stage_id == self.stage_id)
        if self.status:
            where.append(Opportunity.status == self.status)
        if self.text:
            pattern = f"%{escape_like(self.text.lower())}%"
            where.append(func.lower(ThirdParty.name).like(pattern, escape="\\") |
                         func.lower(Opportunity.title).like(pattern, escape="\\"))
        return where


@dataclass
class Column:
    stage: PipelineStage
    cards: list = field(default_factory=list)  # (opportunity, customer name), the first CARDS_PER_COLUMN
    totals: Totals = field(default_factory=Totals)

    @property
    def more(self) -> int:
        return self.totals.count - len(self.cards)


def board(viewer: Viewer, stages: list[PipelineStage], filters: Filters) -> tuple[list[Column], Totals]:
    """The open opportunities by stage (soonest expected close first), each column's count, amount and weighted
    amount, and the board's; two queries whatever the size."""
    where = [Opportunity.status == "open", *filters.conditions()]
    columns = {s.id: Column(s) for s in stages}
    stats = select(Opportunity.stage_id, *_sums()).join(ThirdParty, _customer()).where(*where).group_by(Opportunity.stage_id)
    for stage_id, *sums in db.session.execute(visible(stats, viewer)):
        if stage_id in columns:
            columns[stage_id].totals = _totals(*sums)
    order = (Opportunity.expected_close_on.is_(None), Opportunity.expected_close_on, Opportunity.created_at, Opportunity.id)
    ranked = select(Opportunity.id.label("id"), func.row_number().over(partition_by=Opportunity.stage_id, order_by=order)
                    .label("rank")).join(ThirdParty, _customer()).where(*where)
    ranked = visible(ranked, viewer).subquery()
    cards = (select(Opportunity, ThirdParty.name).join(ranked, ranked.c.id == Opportunity.id).join(ThirdParty, _customer())
             .where(ranked.c.rank <= CARDS_PER_COLUMN).order_by(*order))
    for opp, name in db.session.execute(cards):
        if opp.stage_id in columns:
            columns[opp.stage_id].cards.append((opp, name))
    overall = Totals()
    for column in columns.values():
        overall.add(column.totals)
    return list(columns.values()), overall


def list_opportunities(viewer: Viewer, filters: Filters):
    """One page of opportunities (newest first) with their customer's name, whether a next page follows, and the
    count, amount and weighted amount of everything the filters select: per stage and in all."""
    where = filters.conditions()
    stmt = visible(select(Opportunity, ThirdParty.name).join(ThirdParty, _customer()).where(*where), viewer)
    rows, has_next = split_page(db.session.execute(page_of(stmt.order_by(Opportunity.created_at.desc(), Opportunity.id.desc()),
                                                           filters.page)).all())
    stats = select(Opportunity.stage_id, *_sums()).join(ThirdParty, _customer()).where(*where).group_by(Opportunity.stage_id)
    per_stage = {stage_id: _totals(*sums) for stage_id, *sums in db.session.execute(visible(stats, viewer))}
    overall = Totals()
    for totals in per_stage.values():
        overall.add(totals)
    return rows, has_next, per_stage, overall


def card_box(viewer: Viewer, thirdparty_id: uuid.UUID) -> dict:
    """What the customer card shows of the pipeline: the customer's open opportunities with their stage's name
    (board order), and their total and weighted total; ``pipeline_open`` is None for a viewer without quote.read."""
    if not viewer.can("quote.read"):
        return {"pipeline_open": None}
    stage = (PipelineStage.tenant_id == Opportunity.tenant_id) & (PipelineStage.id == Opportunity.stage_id)
    stmt = (select(Opportunity, PipelineStage.name).join(PipelineStage, stage)
            .where(Opportunity.thirdparty_id == thirdparty_id, Opportunity.status == "open")
            .order_by(PipelineStage.position, Opportunity.expected_close_on.is_(None), Opportunity.expected_close_on))
    rows = db.session.execute(visible(stmt, viewer)).all()
    units = [(int(opp.amount.scaleb(2)), opp.probability) for opp, _name in rows]
    totals = _totals(len(rows), sum(u for u, _p in units), sum(u * p for u, p in units))
    return {"pipeline_open": rows, "pipeline_totals": totals}
