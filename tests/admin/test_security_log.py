"""The security log an administrator reads: what it records, filters, pages, and its details in words."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.audit.services import PAGE_SIZE, ClientInfo, record_security_event
from app.extensions import db
from app.models import SecurityEvent, User, utcnow
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


# --- details in words, in the viewer's language (issue 14, point 5) ---

def _log_event(app, tenant, kind, **detail):
    with app.app_context():
        record_security_event(tenant.id, kind, user_id=tenant.owner.id, client=ClientInfo(ip="192.0.2.7"), **detail)
        db.session.commit()


def _reads_in(app, user, locale):
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(locale=locale))
        db.session.commit()


def _details(page: str) -> list[tuple[str, str]]:
    """The (label, value) pairs of the log's details cells, as shown (tags removed, entities kept)."""
    return [(text_of(dt).strip(), text_of(dd).strip()) for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S)]


@pytest.mark.parametrize("locale, right, kind", [
    ("fr", "Inviter des membres, changer leur rôle, les désactiver", "Connexion en deux étapes réinitialisée par un administrateur"),
    ("it", "Invitare membri, cambiarne il ruolo, disattivarli", "Accesso in due passaggi reimpostato da un amministratore"),
])
def test_refusals_are_told_in_words_in_the_viewers_language(app, owner, tenant, locale, right, kind):
    """The log showed ``path: /x``, ``method: GET``, ``right: admin.users`` and ``reason: two_factor_reset`` raw."""
    _log_event(app, tenant, "access_denied", path=f"/{tenant.slug}/admin/members", method="GET", right="admin.users")
    _log_event(app, tenant, "access_denied", path=f"/{tenant.slug}/admin/members/x/two-factor/reset", method="POST",
               reason="two_factor_reset")
    _reads_in(app, tenant.owner, locale)
    page = owner.get(f"/{tenant.slug}/admin/security-log?kind=access_denied").get_data(as_text=True)
    details = _details(page)
    values = [value for _label, value in details]
    assert right in values and kind in values
    assert f"/{tenant.slug}/admin/members" in values  # the page, under its label
    labels = {label for label, _value in details}
    assert not labels & {"path", "method", "right", "reason"}, labels  # every known key has a label, none raw
    assert "admin.users" not in text_of(page) and "two_factor_reset" not in text_of(page)
    assert "GET" not in values  # opening a page goes without saying; a form sent is said in words
    assert "POST" not in values


def test_role_changes_name_the_rights_and_roles_in_words(app, owner, tenant):
    _log_event(app, tenant, "role_updated", role="sales", added="admin.users admin.security_log", removed="")
    _log_event(app, tenant, "member_role_changed", member="ada@example.com", old="sales", new="accounting")
    page = owner.get(f"/{tenant.slug}/admin/security-log").get_data(as_text=True)
    values = [value for _label, value in _details(page)]
    assert "Invite members, change their roles, deactivate them; Read the security log" in values
    assert {"Sales", "Accounting"} <= set(values) and "ada@example.com" in values
    assert "admin.security_log" not in text_of(page)


def test_an_unknown_detail_still_shows_escaped(app, owner, tenant):
    _log_event(app, tenant, "login", note="<b onclick=alert(1)>seen</b>", right="no.such.right")
    page = owner.get(f"/{tenant.slug}/admin/security-log").get_data(as_text=True)
    assert "<b onclick" not in page and "&lt;b onclick=alert(1)&gt;seen&lt;/b&gt;" in page
    details = _details(page)
    assert ("note", "<b onclick=alert(1)>seen</b>") in details  # as recorded, once the entities are read
    assert "no.such.right" in [value for _label, value in details]  # a right nobody knows: its code, not a blank
