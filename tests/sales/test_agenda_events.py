"""Sales steps in the agenda: an organisation may show invoice validations and payments in the agenda of whoever
did them (Settings); only members who may read invoices see them, in the team's agenda too."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import Group, GroupMember, Membership, Tenant
from app.tenancy import tenant_context
from tests.customers import make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import Browser
from tests.sales.support import set_columns, validated


def test_invoice_validations_show_in_the_agenda_of_those_who_may_read_invoices(app, browser, tenant, owner):
    set_columns(app, tenant, Tenant, tenant.id, agenda_kinds=["invoice_validated"])
    invoice = validated(app, browser, tenant, make_thirdparty(app, tenant, "Ceramiche Lodi"), "invoice")
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    day = {"view": "day", "date": today}
    page = browser.get(f"/{tenant.slug}/agenda/", query_string=day).get_data(as_text=True)
    row = page.split('class="agenda-item agenda-event kind-invoice_validated"', 1)[1].split("</li>", 1)[0]
    assert "Invoice validated" in row and invoice.number in row

    support = add_member(app, tenant, make_user(app, name="Sara Support"), role="support")  # reads all customers, no invoices
    with app.app_context(), tenant_context(tenant.id):  # and sees the whole team's agenda, through a group
        team_group = Group(name="Planning", rights=["agenda.read_all"])
        db.session.add(team_group)
        db.session.flush()
        membership = db.session.scalar(select(Membership.id).where(Membership.user_id == support.id))
        db.session.add(GroupMember(group_id=team_group.id, membership_id=membership))
        db.session.commit()
    other = Browser(app.test_client())
    other.login(support.email)
    team = other.get(f"/{tenant.slug}/agenda/", query_string={**day, "who": "team"}).get_data(as_text=True)
    assert "kind-invoice_validated" not in team and invoice.number not in team
    set_columns(app, tenant, Tenant, tenant.id, agenda_kinds=["invoice_validated", "thirdparty_created"])
    team = other.get(f"/{tenant.slug}/agenda/", query_string={**day, "who": "team"}).get_data(as_text=True)
    assert "kind-thirdparty_created" in team  # the owner's other business event is seen: the team's agenda is shown
    assert "kind-invoice_validated" not in team
