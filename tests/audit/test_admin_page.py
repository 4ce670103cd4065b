"""The audit log screen: entries with old → new, who and from where; filters; pages; the check button; rights."""
import html
import re

import pytest

from app.extensions import db
from app.models import Tag
from app.tenancy import tenant_context
from tests.audit.support import TAMPERING, tamper
from tests.customers import make_tag, make_thirdparty
from tests.factories import add_member
from tests.helpers import text_of
from tests.timeline.support import notes_of, post_note, signed_in

SEQ = re.compile(r"<tr>\s*<td>(\d+)</td>")


def audit_url(tenant, query=""):
    return f"/{tenant.slug}/admin/audit" + (f"?{query}" if query else "")


def seqs(page: str) -> list[int]:
    return [int(s) for s in SEQ.findall(page)]


def test_the_log_shows_old_and_new_values_who_and_from_where(app, tenant):
    owner = signed_in(app, tenant.owner)
    owner.client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    tp = make_thirdparty(app, tenant, "Dupont SARL")
    post_note(owner, tenant, tp.id, "Budget 10k")
    [note] = notes_of(app, tenant)
    owner.post(f"/{tenant.slug}/timeline/notes/{note.id}/edit",
               {"body": "Budget 12k", "version": "1", "base_body": "Budget 10k"}, htmx=True)

    page = owner.get(audit_url(tenant, "entity=note")).get_data(as_text=True)

    assert "<del>Budget 10k</del> → <ins>Budget 12k</ins>" in page
    rows = text_of(page)
    assert tenant.owner.name in rows and "203.0.113.7" in rows
    assert seqs(page) == [3, 2]  # the customer's creation is entry 1; the note's, newest first


def test_the_record_type_filter_shows_only_that_type(app, owner, tenant):
    make_thirdparty(app, tenant, "Dupont SARL")
    make_tag(app, tenant, "VIP")

    page = owner.get(audit_url(tenant, "entity=tag"), headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "<html" not in page and 'id="audit-table"' in page
    assert re.findall(r"<code>([a-z_]+)</code>", page) == ["tag"]


def test_older_entries_continue_the_list_without_repeats(app, owner, tenant):
    with app.app_context(), tenant_context(tenant.id):
        db.session.add_all(Tag(name=f"Tag {i:02}", colour="blue") for i in range(60))
        db.session.commit()

    first = owner.get(audit_url(tenant)).get_data(as_text=True)
    link = html.unescape(re.search(r'<tr class="load-more" hx-get="([^"]+)"', first).group(1))
    rest = owner.get(link, headers={"HX-Request": "true"}).get_data(as_text=True)

    assert seqs(first) == list(range(60, 10, -1))
    assert seqs(rest) == list(range(10, 0, -1))
    assert 'class="load-more"' not in rest


def test_the_page_offers_the_check_button(owner, tenant):
    page = owner.get(audit_url(tenant)).get_data(as_text=True)

    assert f'hx-get="/{tenant.slug}/admin/audit/verify"' in page


def test_the_check_reports_an_intact_log(app, owner, tenant):
    make_tag(app, tenant, "VIP")

    answer = owner.get(f"/{tenant.slug}/admin/audit/verify", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "The log is intact" in answer and "tampered" not in answer


@pytest.mark.parametrize("how", ["middle entry deleted", "last entry deleted"])
def test_the_check_reports_a_tampered_log(app, owner, cleaner, tenant, how):
    for name in ("VIP", "Late payer", "Friend", "Supplier", "Lead"):
        make_tag(app, tenant, name)
    tamper(cleaner, tenant, TAMPERING[how])

    answer = owner.get(f"/{tenant.slug}/admin/audit/verify", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "The log has been tampered with" in answer and "The log is intact" not in answer


@pytest.mark.parametrize("path", ["admin/audit", "admin/audit/verify"])
def test_a_sales_member_may_not_read_the_audit_log(app, tenant, path):
    seller = signed_in(app, add_member(app, tenant, role="sales"))

    assert seller.get(f"/{tenant.slug}/{path}").status_code == 403
