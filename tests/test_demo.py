"""`flask demo` (what `make run` loads): two organisations with a realistic history, idempotent, sign-in ready."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Activity, Contact, Note, Tenant, ThirdParty, TimelineEvent
from app.tenancy import tenant_context
from tests.helpers import Browser


def _counts(app, slug) -> dict:
    with app.app_context():
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        with tenant_context(tenant_id):
            count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
            kinds = dict(db.session.execute(select(TimelineEvent.kind, func.count()).group_by(TimelineEvent.kind)).all())
            return {"customers": count(ThirdParty), "contacts": count(Contact), "notes": count(Note),
                    "activities": count(Activity), "kinds": kinds}


def test_demo_loads_a_history_once_and_prints_how_to_sign_in(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--password", "Demo-Password-2026"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000" in result.output and "marie@storia.example" in result.output
    with app.app_context():
        slugs = db.session.scalars(select(Tenant.slug).order_by(Tenant.slug)).all()
    assert len(slugs) == 2
    before = {slug: _counts(app, slug) for slug in slugs}
    for counts in before.values():
        assert counts["customers"] >= 8 and counts["contacts"] >= counts["customers"] and counts["notes"] > 0
        assert {"thirdparty_created", "contact_added", "note_added", "call_logged", "task_planned"} <= set(counts["kinds"])
        # Every activity (logged or planned) landed on the timeline; each customer has a task around today.
        kinds = ("call_logged", "meeting_logged", "email_logged", "task_planned", "appointment_planned")
        assert sum(counts["kinds"].get(k, 0) for k in kinds) == counts["activities"]
        assert counts["kinds"]["task_planned"] == counts["customers"]
    # Run again: nothing doubles.
    assert runner.invoke(args=["demo", "--password", "Demo-Password-2026"]).exit_code == 0
    assert {slug: _counts(app, slug) for slug in slugs} == before
    # The printed login works.
    browser = Browser(app.test_client())
    browser.login("marie@storia.example", "Demo-Password-2026")
    assert browser.get(f"/{slugs[0]}/thirdparties/").status_code == 200
