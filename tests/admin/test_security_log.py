"""The security log an administrator reads: what it records, filters, pages."""
from datetime import timedelta

from sqlalchemy import select, update

from app.audit.services import PAGE_SIZE
from app.extensions import db
from app.models import SecurityEvent, utcnow
from app.tenancy import tenant_context
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import Browser, text_of


def test_log_shows_time_user_address_and_browser(app, owner, tenant):
    page = text_of(owner.get(f"/{tenant.slug}/admin/security-log", headers={"User-Agent": "CanaryAgent/1.0"}).get_data(as_text=True))
    assert "Signed in" in page and tenant.owner.name in page and "127.0.0.1" in page


def test_failed_sign_in_and_probe_of_another_organisation_are_logged(app, owner, tenant):
    member = add_member(app, tenant)
    stranger_tenant = make_tenant(app)
    Browser(app.test_client()).post("/auth/login", {"email": member.email, "password": "wrong password here"})
    prober = Browser(app.test_client())
    prober.login(stranger_tenant.owner.email)
    assert prober.get(f"/{tenant.slug}/admin/members").status_code == 404
    with app.app_context(), tenant_context(tenant.id):
        events = {(e.kind, e.user_id) for e in db.session.scalars(select(SecurityEvent))}
    assert ("login_failed", member.id) in events
    assert ("access_not_found", stranger_tenant.owner.id) in events


def test_filter_by_kind_and_person(app, owner, tenant):
    member = add_member(app, tenant, make_user(app, name="Filtered Person"))
    Browser(app.test_client()).login(member.email)
    response = owner.get(f"/{tenant.slug}/admin/security-log?kind=login&user={member.id}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="event-table"' in body
    assert body.count("<tr>") == 1 + 1  # header row and one event
    assert "Filtered Person" in body


def test_filter_by_period_uses_calendar_days(app, owner, tenant):
    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(update(SecurityEvent).values(occurred_at=utcnow() - timedelta(days=10)))
        db.session.commit()
    today = utcnow().date().isoformat()
    body = owner.get(f"/{tenant.slug}/admin/security-log?since={today}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Organisation created" not in text_of(body)


def test_malformed_filters_are_ignored_not_errors(app, owner, tenant):
    response = owner.get(f"/{tenant.slug}/admin/security-log?kind=nope&user=bad&since=2026-13-45&before=garbage")
    assert response.status_code == 200


def test_pages_follow_each_other_without_gaps_or_repeats(app, owner, tenant):
    with app.app_context(), tenant_context(tenant.id):
        now = utcnow()
        for i in range(PAGE_SIZE + 7):
            db.session.add(SecurityEvent(kind="login", occurred_at=now - timedelta(minutes=i), detail={"n": str(i)}))
        db.session.commit()
        total = db.session.query(SecurityEvent).count()
    first = owner.get(f"/{tenant.slug}/admin/security-log").get_data(as_text=True)
    assert first.count('class="load-more"') == 1
    next_url = first.split('class="load-more" hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = owner.get(next_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    rows = first.count("<time ") + second.count("<time ")
    assert rows == total
    assert "load-more" not in second
