"""The sales chain reads as one thread on the customer's timeline (issue 14, point 6): quote → order → shipment →
invoice → payment grouped under the first document, newest step on top, the earlier ones behind a <details>;
pages, filters and the live stream keep working."""
import re
from datetime import timedelta

from app.models import utcnow
from tests.customers import add_event, events_of, make_thirdparty
from tests.helpers import text_of
from tests.sales.support import made_from, reload, show_url, validate
from tests.sales.test_invoices import pay
from tests.sales.test_orders import order_from_a_quote, ship

THREAD = re.compile(r'<li class="thread" data-thread="([^"]+)">(.*?)</details>\s*</li>', re.S)
EVENT_ID = re.compile(r'<li class="event [^"]*" id="ev-([^"]+)"')


def whole_chain(app, browser, tenant, tp):
    quote, order = order_from_a_quote(app, browser, tenant, tp)
    assert ship(browser, tenant, order, reference="DHL 1").status_code == 303
    invoice = made_from(app, browser, tenant, order, "Invoice it")
    assert validate(browser, tenant, invoice).status_code == 303
    invoice = reload(app, tenant, invoice)
    assert pay(browser, tenant, tp, invoice.total_gross, {invoice: invoice.total_gross}).status_code == 303
    return quote, order, invoice


def card(browser, tenant, tp, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = browser.get(f"/{tenant.slug}/thirdparties/{tp.id}" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_chain_is_one_thread_under_its_quote_newest_step_on_top(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Mobili Conti")
    quote, order, invoice = whole_chain(app, browser, tenant, tp)
    steps = [e for e in events_of(app, tenant, thirdparty_id=tp.id) if e.payload.get("thread")]
    assert {e.kind for e in steps} >= {"quote_validated", "order_validated", "order_shipped", "invoice_validated",
                                       "payment_received"}
    assert {e.payload["thread"]["key"] for e in steps} == {str(quote.id)}

    page = card(owner, tenant, tp)
    threads = THREAD.findall(page)
    assert len(threads) == 1, "the chain is one item, not one row per step"
    key, body = threads[0]
    assert key == str(quote.id)
    head = re.search(r'<div class="thread-head">(.*?)</div>', body, re.S).group(1)
    assert f"Quote {quote.number}" in text_of(head) and f'href="{show_url(tenant, quote)}"' in head
    assert f"{len(steps)} steps" in text_of(head)
    # The newest step (the payment) shows; the earlier ones are behind the <details>, newest first.
    newest, earlier = body.split("<details", 1)
    assert len(EVENT_ID.findall(newest)) == 1 and "Payment received" in text_of(newest)
    assert f"{len(steps) - 1} earlier steps" in text_of(earlier)
    shown = [text_of(m) for m in re.findall(r'<strong>([^<]*)</strong>', earlier)]
    assert shown.index("Invoice validated") < shown.index("Shipment") < shown.index("Quote validated")
    # Not five unrelated rows: no step of the chain outside its thread.
    outside = THREAD.sub("", page)
    assert not any(f'id="ev-{i}"' in outside for i in EVENT_ID.findall(body))
    # The invoice's own page still shows the chain (the thread's source of truth).
    assert quote.number in owner.get(show_url(tenant, invoice)).get_data(as_text=True)


def test_filters_still_apply_and_a_filtered_thread_groups_what_is_left(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Mobili Conti")
    quote, _order, _invoice = whole_chain(app, browser, tenant, tp)
    sales = card(owner, tenant, tp, kind="sales")
    assert len(THREAD.findall(sales)) == 1
    notes = card(owner, tenant, tp, kind="notes")
    assert not THREAD.findall(notes) and "Payment received" not in notes
    shipped = card(owner, tenant, tp, text="DHL")
    assert not THREAD.findall(shipped) and "Shipment" in shipped  # one step left: a plain row, linking its thread
    assert "In the thread of" in text_of(shipped) and f'href="{show_url(tenant, quote)}"' in shipped


def test_a_thread_spanning_pages_continues_on_the_next_under_the_same_name(app, browser, tenant, owner):
    tp = make_thirdparty(app, tenant, "Mobili Conti")
    quote, _order, _invoice = whole_chain(app, browser, tenant, tp)
    steps = [e for e in events_of(app, tenant, thirdparty_id=tp.id) if e.payload.get("thread")]
    # 29 later events: the first page holds them and the newest step (the payment) alone; the rest is on the next.
    now = utcnow()
    for n in range(29):
        add_event(app, tenant, tp.id, title=f"Unrelated {n}", occurred_at=now + timedelta(minutes=1, seconds=n))
    first = card(owner, tenant, tp)
    assert not THREAD.findall(first)
    assert "Payment received" in first and "In the thread of" in text_of(first)  # a lone step names its thread
    older = re.search(r'class="load-more" hx-get="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = owner.get(older, headers={"HX-Request": "true"}).get_data(as_text=True)
    # The earlier steps continue the thread on the next page, under the same name; each step shows once in all.
    assert [key for key, _ in THREAD.findall(second)] == [str(quote.id)]
    ids_first, ids_second = set(EVENT_ID.findall(first)), set(EVENT_ID.findall(second))
    assert not ids_first & ids_second, "a step shows on two pages"
    assert {str(i) for i in _ids(app, tenant, tp)} <= ids_first | ids_second
    assert len(steps) - 1 == len(ids_second & {str(i) for i in _ids(app, tenant, tp)})


def _ids(app, tenant, tp):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import TimelineEvent
    from app.tenancy import tenant_context

    with app.app_context(), tenant_context(tenant.id):
        return [e.id for e in db.session.scalars(select(TimelineEvent).where(TimelineEvent.thirdparty_id == tp.id))
                if (e.payload or {}).get("thread")]


def test_the_migration_puts_the_steps_recorded_before_in_their_thread(app, browser, tenant, owner, database_urls):
    """Migration 0025 on a database whose sales events have no thread yet: the card groups them all the same."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from app.config import database_url

    tp = make_thirdparty(app, tenant, "Mobili Conti")
    quote, _order, _invoice = whole_chain(app, browser, tenant, tp)
    engine = create_engine(database_url(database_urls["owner"]))
    postgres = engine.dialect.name == "postgresql"
    strip = ("UPDATE timeline_event SET payload = payload - 'thread'" if postgres
             else "UPDATE timeline_event SET payload = json_remove(payload, '$.thread')")
    with engine.begin() as connection:
        if postgres:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
        connection.execute(text(strip))
    assert not THREAD.findall(card(owner, tenant, tp))

    path = next(Path("migrations/versions").glob("*_0025_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0025", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with engine.begin() as connection:
        migration.threads_for_recorded_steps(connection)
    engine.dispose()

    threaded_steps = [e for e in events_of(app, tenant, thirdparty_id=tp.id) if e.payload.get("thread")]
    assert len(threaded_steps) >= 7 and {e.payload["thread"]["key"] for e in threaded_steps} == {str(quote.id)}
    assert [key for key, _ in THREAD.findall(card(owner, tenant, tp))] == [str(quote.id)]


def test_the_first_document_is_named_only_to_whoever_may_read_it(app, browser, tenant, owner):
    from tests.factories import add_member, make_user
    from tests.helpers import Browser

    tp = make_thirdparty(app, tenant, "Mobili Conti")
    quote, order, _invoice = whole_chain(app, browser, tenant, tp)
    add_member(app, tenant, make_user(app, email="sara@alpha.example.com", name="Sara"), role="support")
    support = Browser(app.test_client())
    support.login("sara@alpha.example.com")  # reads orders, not quotes, invoices or payments
    page = card(support, tenant, tp)
    (key, body), = THREAD.findall(page)
    assert key == str(quote.id) and order.number in text_of(body)
    assert quote.number not in page and show_url(tenant, quote) not in page
    assert "Payment received" not in page and "Quote validated" not in page
