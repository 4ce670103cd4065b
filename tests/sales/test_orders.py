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


def ship(browser, tenant, order, quantities=None, *, page=None, **fields):
    """Send the shipment form as a browser does: as the page fills it (everything still to ship), with ``quantities``
    typed over some lines ("" clears a line)."""
    data = form_fields(page or ship_page(browser, tenant, order), "ship-form")
    data.update({k: [v] for k, v in fields.items()})
    for line, quantity in (quantities or {}).items():
        data[f"qty-{line.id}"] = [str(quantity)]
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
    assert "10 still to ship of 10 ordered" in text_of(page) and "2 still to ship of 2 ordered" in text_of(page)
    response = ship(browser, tenant, order, {chairs: "4", tables: ""}, page=page, reference="DHL 123",
                    shipped_on=str(day - timedelta(days=1)))
    assert response.status_code == 303 and response.headers["Location"].endswith(show_url(tenant, order))
    assert reload(app, tenant, order).status == "partial" and shown_state(browser, tenant, order) == "partial"
    (first,) = rows_of(app, tenant, Shipment)
    assert (first.order_id, first.shipped_on, first.reference) == (order.id, day - timedelta(days=1), "DHL 123")
    assert [(x.line_id, x.quantity) for x in first.lines] == [(chairs.id, Decimal("4.000"))]

    page = ship_page(browser, tenant, order)
    assert "6 still to ship of 10 ordered" in text_of(page)
    response = ship(browser, tenant, order, page=page, reference="DHL 456")  # as shown: all that is left
    assert response.status_code == 303
    assert reload(app, tenant, order).status == "shipped" and shown_state(browser, tenant, order) == "shipped"
    second = next(s for s in rows_of(app, tenant, Shipment) if s.id != first.id)
    assert sorted((x.line_id, x.quantity) for x in second.lines) == sorted([(chairs.id, Decimal("6.000")),
                                                                           (tables.id, Decimal("2.000"))])

    page = " ".join(text_of(browser.get(show_url(tenant, order)).get_data(as_text=True)).split())
    assert "Shipments" in page and "DHL 123: 4 × Oak chair" in page and "DHL 456: 6 × Oak chair; 2 × Oak table" in page
    assert "Record a shipment" not in page
    # Nothing is left: another shipment is refused and records nothing.
    assert ship(browser, tenant, order).status_code == 422
    assert len(rows_of(app, tenant, Shipment)) == 2
    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id) if e.kind.startswith("order_")]
    assert kinds == ["order_created", "order_validated", "order_shipped", "order_shipped"]
    assert [e.payload["complete"] for e in events_of(app, tenant, kind="order_shipped")] == [False, True]


def test_the_shipment_form_as_shown_ships_everything_still_to_ship(app, browser, tenant, owner):
    """Issue 14: the form said "What left" and "(20 left of 20)", and its default submit failed (an unticked
    "everything" box and empty lines). Now each line is filled with what is still to ship, in plain words."""
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    chairs, tables = order.lines
    page = ship_page(browser, tenant, order)
    text = " ".join(text_of(page).split())
    assert "Quantities to ship" in text and "10 still to ship of 10 ordered" in text and "2 still to ship of 2 ordered" in text
    assert "What left" not in text and "left of" not in text and 'type="checkbox"' not in page
    fields = form_fields(page, "ship-form")
    assert fields[f"qty-{chairs.id}"] == ["10"] and fields[f"qty-{tables.id}"] == ["2"]

    response = ship(browser, tenant, order, page=page, reference="One truck")  # nothing changed: the form as shown
    assert response.status_code == 303
    assert reload(app, tenant, order).status == "shipped"
    (shipment,) = rows_of(app, tenant, Shipment)
    assert sorted((x.line_id, x.quantity) for x in shipment.lines) == sorted([(chairs.id, Decimal("10.000")),
                                                                             (tables.id, Decimal("2.000"))])


def test_a_shipment_sent_without_quantities_ships_all_that_is_left(app, browser, tenant, owner):
    """A line whose field is not sent at all ships what is left of it (what the page fills it with); a blank one none."""
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    chairs, tables = order.lines
    assert ship(browser, tenant, order, {chairs: "3", tables: ""}).status_code == 303
    data = {k: v for k, v in form_fields(ship_page(browser, tenant, order), "ship-form").items() if not k.startswith("qty-")}
    assert submit(browser, f"/{tenant.slug}/sales/orders/{order.id}/ship", data).status_code == 303
    assert reload(app, tenant, order).status == "shipped"
    second = [s for s in rows_of(app, tenant, Shipment) if len(s.lines) == 2]
    assert len(second) == 1 and sorted(x.quantity for x in second[0].lines) == [Decimal("2.000"), Decimal("7.000")]


def test_nothing_left_to_ship_says_so_and_is_refused_with_422(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    page = ship_page(browser, tenant, order)
    assert ship(browser, tenant, order, page=page).status_code == 303
    shown = ship_page(browser, tenant, order)
    assert "Nothing is left to ship: everything ordered has been shipped." in text_of(shown)
    assert "Record the shipment" not in shown and "qty-" not in shown
    # The first page sent again with a new key (another tab): refused, nothing recorded.
    response = submit(browser, f"/{tenant.slug}/sales/orders/{order.id}/ship",
                      {**form_fields(page, "ship-form"), "idempotency_key": ["another-key"]})
    assert response.status_code == 422
    assert "Nothing is left to ship: everything ordered has been shipped." in text_of(response.get_data(as_text=True))
    assert len(rows_of(app, tenant, Shipment)) == 1


def test_a_quantity_above_what_is_left_is_refused_with_the_input_kept(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    chairs, tables = order.lines
    assert ship(browser, tenant, order, {chairs: "7", tables: ""}).status_code == 303
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
    response = ship(browser, tenant, order, {chairs: "", tables: ""})  # every line cleared: nothing ships
    assert response.status_code == 422
    assert "Enter a quantity to ship for at least one line." in text_of(response.get_data(as_text=True))
    assert len(rows_of(app, tenant, Shipment)) == 1


def test_the_same_shipment_form_sent_twice_records_one_shipment(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant)
    _quote, order = order_from_a_quote(app, browser, tenant, tp)
    chairs, tables = order.lines
    page = ship_page(browser, tenant, order)
    assert ship(browser, tenant, order, {chairs: "5", tables: ""}, page=page).status_code == 303
    assert ship(browser, tenant, order, {chairs: "5", tables: ""}, page=page).status_code == 303
    assert len(rows_of(app, tenant, Shipment)) == 1
    assert "5 still to ship of 10 ordered" in text_of(ship_page(browser, tenant, order))


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
