"""Orders through the pages: made from a quote, confirmed with a number, shipped in parts (never more than ordered),
listed with their shipments, then invoiced, the chain quote → order → invoice shown on each document."""
import re
from datetime import timedelta
from decimal import Decimal

from app.models import Shipment, ShipmentLine
from app.sales import queries
from app.tenancy import tenant_context
from tests.customers import events_of, form_fields, make_thirdparty, submit
from tests.helpers import text_of
from tests.sales.support import made_from, reload, rows_of, show_url, validate, validated


def today(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return queries.today()


def ship_page(browser, tenant, order) -> str:
    response = browser.get(f"/{tenant.slug}/sales/orders/{order.id}/ship")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ship(browser, tenant, order, quantities=None, *, page=None, everything=False, **fields):
    """Fill the shipment form as a browser does: ``quantities`` by order line, or everything that is left."""
    data = form_fields(page or ship_page(browser, tenant, order), "ship-form")
    data.update({k: [v] for k, v in fields.items()})
    for line, quantity in (quantities or {}).items():
        data[f"qty-{line.id}"] = [str(quantity)]
    if everything:
        data["everything"] = ["y"]
    return submit(browser, f"/{tenant.slug}/sales/orders/{order.id}/ship", data)


def shown_state(browser, tenant, doc) -> str:
    page = browser.get(show_url(tenant, doc)).get_data(as_text=True)
    return re.search(r'class="badge state-([a-z]+)"', page.split("<h1>", 1)[1]).group(1)


def chain_on(browser, tenant, doc) -> list[str]:
    """The chain nav of ``doc``'s page: each document as "Kind number", in order."""
    page = browser.get(show_url(tenant, doc)).get_data(as_text=True)
    nav = re.search(r'<nav class="chain".*?</nav>', page, re.S)
    assert nav, "no chain on the page"
    return [" ".join(text_of(item).split()[:2]) for item in re.findall(r"<li>(.*?)</li>", nav.group(0), re.S)]


def order_from_a_quote(app, browser, tenant, tp):
    quote = validated(app, browser, tenant, tp, "quote", [
        {"description": "Oak chair", "quantity": "10", "unit_price": "80"},
        {"description": "Oak table", "quantity": "2", "unit_price": "450"}], title="Dining room")
    order = made_from(app, browser, tenant, quote, "Make it an order")
    assert (order.kind, order.status, order.source_id, order.title) == ("order", "draft", quote.id, "Dining room")
    assert [(x.description, x.quantity, x.net) for x in order.lines] == [(x.description, x.quantity, x.net) for x in quote.lines]
    assert validate(browser, tenant, order).status_code == 303
    return quote, reload(app, tenant, order)


def test_an_order_is_confirmed_then_shipped_in_two_parts(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Casa Verdi")
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    day = today(app, tenant)
    assert order.status == "validated" and order.number == f"CO{day:%y%m}-0001" and order.issued_on == day
    assert shown_state(browser, tenant, order) == "validated"  # "To ship"
    chairs, tables = order.lines

    page = ship_page(browser, tenant, order)
    assert "10 left of 10" in text_of(page) and "2 left of 2" in text_of(page)
    response = ship(browser, tenant, order, {chairs: "4"}, page=page, reference="DHL 123", shipped_on=str(day - timedelta(days=1)))
    assert response.status_code == 303 and response.headers["Location"].endswith(show_url(tenant, order))
    assert reload(app, tenant, order).status == "partial" and shown_state(browser, tenant, order) == "partial"
    (first,) = rows_of(app, tenant, Shipment)
    assert (first.order_id, first.shipped_on, first.reference) == (order.id, day - timedelta(days=1), "DHL 123")
    assert [(x.line_id, x.quantity) for x in first.lines] == [(chairs.id, Decimal("4.000"))]

    page = ship_page(browser, tenant, order)
    assert "6 left of 10" in text_of(page)
    response = ship(browser, tenant, order, everything=True, reference="DHL 456")
    assert response.status_code == 303
    assert reload(app, tenant, order).status == "shipped" and shown_state(browser, tenant, order) == "shipped"
    second = next(s for s in rows_of(app, tenant, Shipment) if s.id != first.id)
    assert sorted((x.line_id, x.quantity) for x in second.lines) == sorted([(chairs.id, Decimal("6.000")),
                                                                           (tables.id, Decimal("2.000"))])

    page = " ".join(text_of(browser.get(show_url(tenant, order)).get_data(as_text=True)).split())
    assert "Shipments" in page and "DHL 123: 4 × Oak chair" in page and "DHL 456: 6 × Oak chair; 2 × Oak table" in page
    assert "Record a shipment" not in page
    # Nothing is left: another shipment is refused and records nothing.
    assert ship(browser, tenant, order, everything=True).status_code == 422
    assert len(rows_of(app, tenant, Shipment)) == 2
    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id) if e.kind.startswith("order_")]
    assert kinds == ["order_created", "order_validated", "order_shipped", "order_shipped"]
    assert [e.payload["complete"] for e in events_of(app, tenant, kind="order_shipped")] == [False, True]


def test_a_quantity_above_what_is_left_is_refused_with_the_input_kept(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    chairs, tables = order.lines
    assert ship(browser, tenant, order, {chairs: "7"}).status_code == 303
    response = ship(browser, tenant, order, {chairs: "4", tables: "1"}, reference="Second truck")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "A quantity is more than what is left to ship of its line." in text_of(body)
    fields = form_fields(body, "ship-form")
    assert fields[f"qty-{chairs.id}"] == ["4"] and fields[f"qty-{tables.id}"] == ["1"] and fields["reference"] == ["Second truck"]
    assert len(rows_of(app, tenant, Shipment)) == 1 and len(rows_of(app, tenant, ShipmentLine)) == 1
    assert reload(app, tenant, order).status == "partial"
    for bad in ("-1", "abc", "1.2345"):
        assert ship(browser, tenant, order, {chairs: bad}).status_code == 422, bad
    assert ship(browser, tenant, order, {}).status_code == 422  # nothing said to have left
    assert len(rows_of(app, tenant, Shipment)) == 1


def test_the_same_shipment_form_sent_twice_records_one_shipment(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    chairs, _tables = order.lines
    page = ship_page(browser, tenant, order)
    assert ship(browser, tenant, order, {chairs: "5"}, page=page).status_code == 303
    assert ship(browser, tenant, order, {chairs: "5"}, page=page).status_code == 303
    assert len(rows_of(app, tenant, Shipment)) == 1
    assert "5 left of 10" in text_of(ship_page(browser, tenant, order))


def test_a_draft_order_does_not_ship(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    quote = validated(app, browser, tenant, tp)
    order = made_from(app, browser, tenant, quote, "Make it an order")
    assert "Record a shipment" not in text_of(browser.get(show_url(tenant, order)).get_data(as_text=True))
    (line,) = order.lines
    response = ship(browser, tenant, order, {line: "1"})
    assert response.status_code == 422 and "Only a validated order" in text_of(response.get_data(as_text=True))
    assert rows_of(app, tenant, Shipment) == []


def test_the_chain_quote_order_invoice_is_shown_on_each_document(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    quote, order = order_from_a_quote(app, browser, tenant, tp)
    invoice = made_from(app, browser, tenant, order, "Invoice it")
    assert (invoice.kind, invoice.source_id, invoice.total_gross) == ("invoice", order.id, order.total_gross)
    assert [x.description for x in invoice.lines] == ["Oak chair", "Oak table"]
    assert chain_on(browser, tenant, invoice) == [f"Quote {quote.number}", f"Order {order.number}", "Invoice (draft)"]
    validate(browser, tenant, invoice)
    invoice = reload(app, tenant, invoice)
    chain = [f"Quote {quote.number}", f"Order {order.number}", f"Invoice {invoice.number}"]
    for doc in (quote, order, invoice):
        assert chain_on(browser, tenant, doc) == chain, doc.kind
    # Each step links to the others.
    page = browser.get(show_url(tenant, order)).get_data(as_text=True)
    assert f'href="{show_url(tenant, quote)}"' in page and f'href="{show_url(tenant, invoice)}"' in page
