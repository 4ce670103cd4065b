"""The pipeline's part of the security world (tests/security/world.py): stages and opportunities of the seeded
customer, made through the services while the world is seeded (called inside ``_acting``: the owner acts)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Opportunity, ThirdParty
from app.pipeline import services
from app.pipeline.stages import add_stage, ensure_stages


def seed_pipeline(viewer, customer_id, contact_id, c) -> dict:
    """The default stages and one more (its name carries the canary; no opportunity uses it, so it can be deleted);
    an open opportunity of the customer (whose rep is the "target" member: "only mine" hides it from the sales member)
    in the first stage, and a lost one (to reopen). Returns the world's references to them."""
    stages = ensure_stages()
    extra = add_stage(f"Stage {c}", 60)
    customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == customer_id))

    def open_one(title):
        opp, _created = services.create_opportunity(viewer, customer, {
            "title": title, "amount": Decimal("1500.00"), "stage_id": stages[0].id, "probability": None,
            "expected_close_on": date(2031, 6, 30), "owner_id": viewer.user_id, "contact_id": contact_id})
        return opp

    deal = open_one(f"Deal {c}")
    lost = open_one(f"Lost deal {c}")
    services.close_opportunity(viewer, lost, "lost", f"Too expensive {c}")
    version = db.session.scalar(select(Opportunity.version).where(Opportunity.id == deal.id))
    return {("opportunity", ""): deal.id, ("opportunity", "lost"): lost.id, ("stage", ""): stages[0].id,
            ("stage", "other"): stages[1].id, ("stage", "extra"): extra.id, ("version", "opportunity"): version}
