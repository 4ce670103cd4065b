"""Helpers of the pipeline tests: stages and opportunities made through the services, the forms posted as a
browser would, and rows read back."""
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Opportunity, PipelineStage, ThirdParty
from app.pipeline import services
from app.pipeline.stages import ensure_stages
from app.tenancy import tenant_context
from tests.customers import _acting
from tests.helpers import csrf_from


@dataclass(frozen=True)
class StageInfo:
    id: uuid.UUID
    name: str
    position: int
    probability: int


def stages(app, tenant) -> list[StageInfo]:
    """The tenant's stages in board order, stored first (the defaults) if it has none."""
    with _acting(app, tenant, tenant.owner):
        return [StageInfo(s.id, s.name, s.position, s.probability) for s in ensure_stages()]


def stored_stages(app, tenant) -> list[StageInfo]:
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(PipelineStage).order_by(PipelineStage.position)).all()
        return [StageInfo(s.id, s.name, s.position, s.probability) for s in rows]


def make_opportunity(app, tenant, tp, title="New website", amount="1000", stage=0, *, by=None, owner=None,
                     probability=None, expected=None, key=None) -> Opportunity:
    """An open opportunity for ``tp`` in the stage at index ``stage``, made through the service by ``by``."""
    by = by or tenant.owner
    with _acting(app, tenant, by) as viewer:
        stage_id = ensure_stages()[stage].id
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == tp.id))
        opp, _created = services.create_opportunity(viewer, customer, {
            "title": title, "amount": Decimal(amount), "stage_id": stage_id, "probability": probability,
            "expected_close_on": expected, "owner_id": (owner or by).id, "contact_id": None}, idempotency_key=key)
        db.session.refresh(opp)
        db.session.expunge(opp)
        return opp


def opportunities(app, tenant) -> list[Opportunity]:
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(Opportunity).order_by(Opportunity.created_at, Opportunity.id)).all()
        db.session.expunge_all()
        return rows


def reload(app, tenant, opp) -> Opportunity:
    return next(o for o in opportunities(app, tenant) if o.id == opp.id)


def idempotency_key(body: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', body).group(1)


def open_form(browser, tenant, tp, **fields):
    """The new-opportunity form of ``tp`` as a browser would submit it, ``fields`` changed."""
    page = browser.get(f"/{tenant.slug}/pipeline/customers/{tp.id}/new").get_data(as_text=True)
    stage = re.search(r'<select id="stage_id" name="stage_id">\s*<option selected value="([^"]+)"', page)
    owner = re.search(r'<select id="owner_id" name="owner_id">.*?<option selected value="([^"]+)"', page, re.S)
    return {"csrf_token": csrf_from(page), "idempotency_key": idempotency_key(page), "title": "New website",
            "contact_id": "", "amount": "1200.50", "stage_id": stage.group(1), "probability": "",
            "expected_close_on": "2031-03-31", "owner_id": owner.group(1), **fields}


def create(browser, tenant, tp, **fields):
    """Open an opportunity for ``tp`` through its form; the response of the creation."""
    return browser.post(f"/{tenant.slug}/pipeline/customers/{tp.id}", open_form(browser, tenant, tp, **fields))
