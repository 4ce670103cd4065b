"""The sales-cycle report: win rate, days from the quote and from the first contact to the signature, days to pay."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.models import SalesDocument, ThirdParty
from app.sales import metrics
from tests.customers import _acting, make_thirdparty
from tests.helpers import csrf_from, text_of
from tests.sales.support import documents, idempotency_key, set_columns, validated
from tests.sales.test_contracts import today


def _answered(app, browser, tenant, tp, step, validated_at, answered_at):
    quote = validated(app, browser, tenant, tp)
    assert browser.post(f"/{tenant.slug}/sales/quotes/{quote.id}/{step}", {}).status_code == 303
    column = "signed_at" if step == "sign" else "refused_at"
    set_columns(app, tenant, SalesDocument, quote.id, validated_at=validated_at, **{column: answered_at})
    return quote


def test_the_report_gives_win_rate_days_to_sign_and_days_to_pay(app, browser, tenant, owner):
    day = today(app, tenant)
    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=40)
    first, second = make_thirdparty(app, tenant, "Ottica Ferri"), make_thirdparty(app, tenant, "Forno Sala")
    set_columns(app, tenant, ThirdParty, first.id, created_at=start - timedelta(days=20))  # known since 60 days ago
    set_columns(app, tenant, ThirdParty, second.id, created_at=start)
    _answered(app, browser, tenant, first, "sign", start, start + timedelta(days=10))  # 10 days; 30 since first contact
    _answered(app, browser, tenant, second, "sign", start, start + timedelta(days=4))  # 4 days; 4 since first contact
    _answered(app, browser, tenant, second, "refuse", start, start + timedelta(days=2))
    validated(app, browser, tenant, second)  # still waiting: not answered

    invoice = validated(app, browser, tenant, first, "invoice", [{"unit_price": "100", "vat_rate": "0"}])
    set_columns(app, tenant, SalesDocument, invoice.id, issued_on=day - timedelta(days=12))
    page = browser.get(f"/{tenant.slug}/sales/customers/{first.id}/payments/new").get_data(as_text=True)
    assert "100.00" in page
    assert browser.post(f"/{tenant.slug}/sales/customers/{first.id}/payments", {
        "csrf_token": csrf_from(page), "idempotency_key": idempotency_key(page), "amount": "100", "received_on": str(day),
        "method": "transfer", "reference": ""}).status_code == 303

    with _acting(app, tenant, tenant.owner) as viewer:
        cycle = metrics.cycle(viewer, day - timedelta(days=365))
    assert (cycle.quotes, cycle.signed, cycle.refused) == (4, 2, 1)
    assert round(cycle.win_rate) == 67
    assert cycle.days_to_sign == 7.0  # the median of 10 and 4
    assert cycle.days_from_contact == 17.0  # the median of 30 and 4
    assert (cycle.paid_invoices, cycle.days_to_pay) == (1, 12.0)
    assert [row[0] for row in cycle.customers] == [first.id, second.id]  # the latest signature first

    report = text_of(browser.get(f"/{tenant.slug}/sales/metrics?months=12").get_data(as_text=True))
    assert "67 %" in report and "7.0 days" in report and "17.0 days" in report and "12.0 days" in report
    assert "Ottica Ferri" in report and "Forno Sala" in report
    assert Decimal(documents(app, tenant, "invoice")[0].settled) == Decimal("100.00")
