"""Contracts through the pages: drafted with a start, a period and maybe an end, validated (number, first period),
renewed period after period into draft invoices (never past the end, once per submission), and the renewals and
endings coming up, in the list's filters and on their own page."""
import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from sqlalchemy import update

from app.extensions import db
from app.models import SalesDocument, Tenant
from app.sales import queries
from app.tenancy import tenant_context
from tests.customers import events_of, form_fields, make_thirdparty
from tests.factories import add_member, make_user
from tests.helpers import Browser, csrf_from, text_of
from tests.sales.support import documents, draft, press, reload, set_columns, show_url, validated

RENEW = "Renew: invoice the next period"
STEP = {"monthly": relativedelta(months=1), "quarterly": relativedelta(months=3), "yearly": relativedelta(years=1)}


def today(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return queries.today()


def contract(app, browser, tenant, tp, starts_on, period="monthly", ends_on=None, title="Maintenance", price="100"):
    """A validated contract of one line at ``price`` a period."""
    return validated(app, browser, tenant, tp, "contract", [{"description": "Maintenance", "unit_price": price}],
                     title=title, starts_on=str(starts_on), period=period, ends_on=str(ends_on or ""))


def renew(app, browser, tenant, doc):
    """Press the renew button on the contract's page; the response and the invoices made by it."""
    before = {d.id for d in documents(app, tenant, "invoice")}
    response = press(browser, browser.get(show_url(tenant, doc)).get_data(as_text=True), RENEW)
    return response, [d for d in documents(app, tenant, "invoice") if d.id not in before]


def page_text(browser, url) -> str:
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200
    return " ".join(text_of(response.get_data(as_text=True)).split())


def short(day: date) -> str:
    return format_date(day, "short", locale="en")


@pytest.mark.parametrize(("period", "next_on", "period_end"), [
    ("monthly", date(2030, 2, 15), date(2030, 2, 14)),
    ("quarterly", date(2030, 4, 15), date(2030, 4, 14)),
    ("yearly", date(2031, 1, 15), date(2031, 1, 14)),
])
def test_a_contract_is_validated_then_renewed_into_the_invoice_of_its_period(app, browser, tenant, owner, period, next_on,
                                                                               period_end):
    tp = make_thirdparty(app, tenant, "Studio Neri")
    start = date(2030, 1, 15)
    doc = contract(app, browser, tenant, tp, start, period)
    day = today(app, tenant)
    assert (doc.number, doc.issued_on) == (f"CT{day:%y%m}-0001", day)
    assert (doc.period, doc.starts_on, doc.ends_on, doc.next_on) == (period, start, None, start)
    page = page_text(browser, show_url(tenant, doc))
    assert "Until cancelled" in page and "Next period from Jan 15, 2030" in page

    response, (invoice,) = renew(app, browser, tenant, doc)
    assert response.status_code == 303 and response.headers["Location"].endswith(show_url(tenant, invoice))
    assert (invoice.status, invoice.source_id, invoice.total_gross) == ("draft", doc.id, doc.total_gross)
    assert invoice.title == f"Maintenance · {short(start)} – {short(period_end)}"
    assert [x.description for x in invoice.lines] == ["Maintenance"]
    assert reload(app, tenant, doc).next_on == next_on
    (event,) = events_of(app, tenant, kind="contract_renewed")
    assert event.payload["period_start"] == start.isoformat() and event.payload["period_end"] == period_end.isoformat()
    assert f"Maintenance · {short(start)}" in page_text(browser, f"/{tenant.slug}/thirdparties/{tp.id}")

    _response, (second,) = renew(app, browser, tenant, doc)
    step = STEP[period]
    assert second.title == f"Maintenance · {short(next_on)} – {short(start + 2 * step - timedelta(days=1))}"
    assert reload(app, tenant, doc).next_on == start + 2 * step
    # The invoices are the contract's chain.
    page = page_text(browser, show_url(tenant, doc))
    assert page.count("Invoice (draft)") == 2


def test_renewing_stops_at_the_end_of_the_contract(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    doc = contract(app, browser, tenant, tp, date(2030, 1, 1), "monthly", ends_on=date(2030, 2, 15))
    _r, (january,) = renew(app, browser, tenant, doc)
    _r, (february,) = renew(app, browser, tenant, doc)
    assert january.title.endswith(f"{short(date(2030, 1, 1))} – {short(date(2030, 1, 31))}")
    assert february.title.endswith(f"{short(date(2030, 2, 1))} – {short(date(2030, 2, 15))}")  # cut at the end
    assert reload(app, tenant, doc).next_on == date(2030, 3, 1)
    assert RENEW not in page_text(browser, show_url(tenant, doc))
    response = browser.post(f"/{tenant.slug}/sales/contracts/{doc.id}/renew", {})
    assert response.status_code == 303 and response.headers["Location"].endswith(show_url(tenant, doc))
    assert "This contract has no period left to invoice." in page_text(browser, show_url(tenant, doc))
    assert len(documents(app, tenant, "invoice")) == 2 and reload(app, tenant, doc).next_on == date(2030, 3, 1)
    assert len(events_of(app, tenant, kind="contract_renewed")) == 2


def test_a_draft_contract_does_not_renew(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    assert draft(browser, tenant, tp, "contract", starts_on="2030-01-01", period="monthly", ends_on="").status_code == 303
    (doc,) = documents(app, tenant, "contract")
    response = browser.post(f"/{tenant.slug}/sales/contracts/{doc.id}/renew", {})
    assert response.status_code == 303 and documents(app, tenant, "invoice") == []


def test_a_contract_must_start_and_cannot_end_before_it_starts(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    response = draft(browser, tenant, tp, "contract", title="Backwards", starts_on="2030-03-01", period="monthly",
                     ends_on="2030-02-28")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "A contract ends after it starts." in text_of(body)
    fields = form_fields(body, "header-form")
    assert fields["title"] == ["Backwards"] and fields["starts_on"] == ["2030-03-01"] and fields["ends_on"] == ["2030-02-28"]
    assert draft(browser, tenant, tp, "contract", starts_on="2030-03-01", period="weekly", ends_on="").status_code == 422
    assert documents(app, tenant) == []
    # The same rule when the draft's header is changed.
    assert draft(browser, tenant, tp, "contract", starts_on="2030-03-01", period="yearly", ends_on="2031-02-28").status_code == 303
    (doc,) = documents(app, tenant)
    page = browser.get(f"/{tenant.slug}/sales/contracts/{doc.id}/edit").get_data(as_text=True)
    data = {**{k: v[0] for k, v in form_fields(page, "header-form").items()}, "ends_on": "2030-01-01"}
    assert browser.client.post(f"/{tenant.slug}/sales/contracts/{doc.id}/edit", data=data).status_code == 422
    assert reload(app, tenant, doc).ends_on == date(2031, 2, 28)


def test_a_contract_without_a_start_date_is_refused(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    response = draft(browser, tenant, tp, "contract", starts_on="", period="monthly", ends_on="")
    assert response.status_code == 422 and "Say when the contract starts." in text_of(response.get_data(as_text=True))
    assert documents(app, tenant) == []


def test_the_upcoming_page_lists_renewals_and_endings_within_60_days(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Neri & Co")
    day = today(app, tenant)
    contract(app, browser, tenant, tp, day + timedelta(days=10), title="Soon")
    contract(app, browser, tenant, tp, day + timedelta(days=60), title="Edge")
    contract(app, browser, tenant, tp, day + timedelta(days=61), title="Later")
    contract(app, browser, tenant, tp, day - timedelta(days=5), title="Overdue", ends_on=day + timedelta(days=20))
    ended = contract(app, browser, tenant, tp, day - timedelta(days=400), "yearly", title="Ended", ends_on=day - timedelta(days=1))
    set_columns(app, tenant, SalesDocument, ended.id, next_on=day)  # both periods invoiced: ended, nothing to renew
    contract(app, browser, tenant, tp, day + timedelta(days=90), title="Ends late", ends_on=day + timedelta(days=200))
    draft(browser, tenant, tp, "contract", title="Draft", starts_on=str(day), period="monthly", ends_on=str(day + timedelta(days=5)))

    page = page_text(browser, f"/{tenant.slug}/sales/contracts/upcoming")
    renewals, endings = page.split("Ending in the next 60 days", 1)
    listed = re.findall(r"\b(Soon|Edge|Later|Overdue|Ended|Ends late|Draft)\b", renewals)
    assert listed == ["Overdue", "Soon", "Edge"]  # by next period, the one already due first
    assert re.search(r"Overdue Neri & Co \w{3} \d+, \d{4} due", renewals)
    overdue = next(d for d in documents(app, tenant, "contract") if d.title == "Overdue")
    assert re.findall(r"CT\d{4}-\d{4}", endings) == [overdue.number]  # neither the ended one nor the one ending later
    assert f"{overdue.number} · Neri & Co · ends on" in endings


def listed_contracts(browser, tenant, state) -> set[str]:
    response = browser.get(f"/{tenant.slug}/sales/contracts/?state={state}")
    results = response.get_data(as_text=True).split('id="results"', 1)[1]
    return set(re.findall(r"<br><small>([^<]+)</small>", results.split("</tbody>", 1)[0]))


def test_the_contracts_list_filters_renewals_due_and_ended_contracts(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    day = today(app, tenant)
    contract(app, browser, tenant, tp, day + timedelta(days=10), title="Soon")
    contract(app, browser, tenant, tp, day - timedelta(days=3), title="Due now")
    contract(app, browser, tenant, tp, day + timedelta(days=45), title="Quiet")
    ended = contract(app, browser, tenant, tp, day - timedelta(days=100), "monthly", title="Ended", ends_on=day - timedelta(days=1))
    set_columns(app, tenant, SalesDocument, ended.id, next_on=day)  # every period invoiced: nothing left to renew
    draft(browser, tenant, tp, "contract", title="Draft", starts_on=str(day), period="monthly", ends_on="")
    assert listed_contracts(browser, tenant, "renewal") == {"Soon", "Due now"}
    assert listed_contracts(browser, tenant, "active") == {"Quiet"}
    assert listed_contracts(browser, tenant, "ended") == {"Ended"}
    assert listed_contracts(browser, tenant, "draft") == {"Draft"}
    assert listed_contracts(browser, tenant, "") == {"Soon", "Due now", "Quiet", "Ended", "Draft"}
    page = browser.get(f"/{tenant.slug}/sales/contracts/?state=renewal").get_data(as_text=True)
    assert page.count("state-renewal") == 2


def test_a_renewal_sent_twice_with_the_same_key_makes_one_invoice(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    doc = contract(app, browser, tenant, tp, date(2030, 1, 1))
    url = f"/{tenant.slug}/sales/contracts/{doc.id}/renew"
    first = browser.post(url, {"idempotency_key": "renew-once-abc"})
    second = browser.post(url, {"idempotency_key": "renew-once-abc"})
    (invoice,) = documents(app, tenant, "invoice")
    assert first.headers["Location"] == second.headers["Location"] and first.headers["Location"].endswith(show_url(tenant, invoice))
    assert reload(app, tenant, doc).next_on == date(2030, 2, 1)
    assert len(events_of(app, tenant, kind="contract_renewed")) == 1
    # Another key is the next period.
    browser.post(url, {"idempotency_key": "renew-once-def"})
    assert len(documents(app, tenant, "invoice")) == 2 and reload(app, tenant, doc).next_on == date(2030, 3, 1)


def test_the_renew_form_sent_twice_renews_once(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    doc = contract(app, browser, tenant, tp, date(2030, 1, 1))
    page = browser.get(show_url(tenant, doc)).get_data(as_text=True)
    press(browser, page, RENEW)
    press(browser, page, RENEW)  # the same form again, as a retried request sends it
    assert len(documents(app, tenant, "invoice")) == 1
    assert reload(app, tenant, doc).next_on == date(2030, 2, 1)


def test_a_monthly_contract_from_the_31st_keeps_its_day(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    doc = contract(app, browser, tenant, tp, date(2031, 1, 31))
    for _ in range(3):
        renew(app, browser, tenant, doc)
    titles = [d.title for d in documents(app, tenant, "invoice")]
    assert reload(app, tenant, doc).next_on == date(2031, 4, 30)  # Jan 31 → Feb 28 → Mar 31 → Apr 30
    assert titles[-1].endswith(f"{short(date(2031, 3, 31))} – {short(date(2031, 4, 29))}")


def test_a_contract_with_every_period_invoiced_is_not_due_for_renewal(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    day = today(app, tenant)
    doc = contract(app, browser, tenant, tp, day - timedelta(days=5), "monthly", ends_on=day + timedelta(days=10))
    renew(app, browser, tenant, doc)  # the only period: from 5 days ago to the end
    doc = reload(app, tenant, doc)
    assert doc.next_on > doc.ends_on and RENEW not in page_text(browser, show_url(tenant, doc))
    assert listed_contracts(browser, tenant, "renewal") == set()
    page = browser.get(show_url(tenant, doc)).get_data(as_text=True)
    assert "state-renewal" not in page.split("<h1>", 1)[1].split("</p>", 1)[0]


def test_the_renewed_invoice_title_is_in_the_organisations_language(app, browser, tenant, owner):
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(locale="fr"))
        db.session.commit()
    tp = make_thirdparty(app, tenant)
    doc = contract(app, browser, tenant, tp, date(2030, 1, 15))
    _r, (invoice,) = renew(app, browser, tenant, doc)
    assert invoice.title == "Maintenance · 15/01/2030 – 14/02/2030"


def test_contract_pages_need_the_right(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    doc = contract(app, browser, tenant, tp, date(2030, 1, 1))
    support = add_member(app, tenant, make_user(app), role="support")  # reads contracts, cannot renew them
    other = Browser(app.test_client())
    other.login(support.email)
    page = other.get(show_url(tenant, doc))
    assert page.status_code == 200 and RENEW not in text_of(page.get_data(as_text=True))
    token = csrf_from(page.get_data(as_text=True))
    assert other.client.post(f"/{tenant.slug}/sales/contracts/{doc.id}/renew", data={"csrf_token": token}).status_code == 403
    assert documents(app, tenant, "invoice") == [] and reload(app, tenant, doc).next_on == date(2030, 1, 1)


def test_an_ended_contract_with_periods_left_to_invoice_is_a_renewal_due(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    day = today(app, tenant)
    doc = contract(app, browser, tenant, tp, day - timedelta(days=70), "monthly", title="Forgotten",
                   ends_on=day - timedelta(days=2))
    assert RENEW in page_text(browser, show_url(tenant, doc))  # its periods can still be invoiced
    renewals, _endings = page_text(browser, f"/{tenant.slug}/sales/contracts/upcoming").split("Ending in the next 60 days", 1)
    assert "Forgotten" in renewals
