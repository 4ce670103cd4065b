"""Sales journeys in a real browser: on a desktop, from the customer card to a quote with its lines, signed, made an
order, shipped, invoiced and paid, the chain followed from the invoice; on a phone, the same pages read and used
(screenshots of each for a reviewer).

The live server and Chromium; nothing mocked, every wait auto-waiting.
"""
import pytest

from tests.customers import make_contact, make_thirdparty
from tests.factories import make_tenant, make_user
from tests.sales.support import make_product

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "fornitura-sales"


@pytest.fixture
def org(app):
    owner = make_user(app, email="elena@fornitura.example.com", name="Elena Galli")
    return make_tenant(app, slug=SLUG, name="Fornitura Galli", owner=owner)


def _accept_confirms(page):
    page.on("dialog", lambda dialog: dialog.accept())


def test_on_a_desktop_from_a_quote_to_the_payment(app, org, pages, sign_in, shot):
    customer = make_thirdparty(app, org, "Trattoria Bellini")
    make_contact(app, org, customer.id, "Bellini", first_name="Marco")
    make_product(app, org, ref="TAV-01", label="Tavolo in rovere", unit_price="480", vat_rate="22", unit="pz")
    page = pages.desktop()
    _accept_confirms(page)
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/thirdparties/{customer.id}")
    page.locator(".sales-box").get_by_role("link", name="New quote").click()
    page.get_by_label("Subject").fill("Dining room")
    page.get_by_label("For the attention of").select_option(label="Marco Bellini")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.locator("h1")).to_have_text("Quote (draft)")

    # Two lines: one from the catalogue (its label, price and VAT fill themselves), one written out.
    page.get_by_label("Product or service").select_option(label="TAV-01 · Tavolo in rovere")
    page.get_by_label("Quantity").fill("4")
    page.get_by_role("button", name="Add the line").click()
    expect(page.locator("#lines tbody tr")).to_have_count(1)
    page.get_by_label("Description").fill("Delivery and assembly")
    page.get_by_label("Quantity").fill("1")
    page.get_by_label("Unit price").fill("150,50")
    page.get_by_label("VAT (%)").fill("22")
    page.get_by_role("button", name="Add the line").click()
    expect(page.locator("#lines tbody tr")).to_have_count(2)
    # 4 × 480 + 150.50 = 2,070.50 before VAT; 22 % = 455.51; 2,526.01 with VAT.
    expect(page.locator(".totals")).to_contain_text("2,526.01")
    shot(page, "desktop-quote-lines")

    page.get_by_role("button", name="Validate").click()
    expect(page.locator("h1")).to_contain_text("Quote PR")
    page.get_by_role("button", name="Signed by the customer").click()
    expect(page.locator(".card-header .badge").first).to_have_text("Signed")

    page.get_by_role("button", name="Make it an order").click()
    expect(page.locator("h1")).to_have_text("Order (draft)")
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("h1")).to_contain_text("Order CO")
    page.get_by_role("button", name="Record a shipment").click()
    page.get_by_label("Reference").fill("DDT 118")
    page.get_by_role("button", name="Record the shipment").click()
    expect(page.locator(".card-header .badge").first).to_have_text("Shipped")
    expect(page.get_by_text("DDT 118")).to_be_visible()

    page.get_by_role("button", name="Invoice it").click()
    expect(page.locator("h1")).to_have_text("Invoice (draft)")
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("h1")).to_contain_text("Invoice FA")
    # The chain quote → order → invoice, from the invoice.
    chain = page.get_by_role("navigation", name="From the quote to the payment")
    expect(chain).to_contain_text("Quote PR")
    expect(chain).to_contain_text("Order CO")

    page.get_by_role("button", name="Record a payment").click()
    page.get_by_label("Amount received").fill("1000")
    page.get_by_label("Method").select_option("transfer")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator(".sales-box")).to_contain_text("Balance due: €1,526.01")
    expect(page.locator(".timeline")).to_contain_text("Payment received")
    shot(page, "desktop-card-sales")

    # The PDF opens for the invoice (a real PDF, not a page).
    invoice_link = page.locator(".sales-box a", has_text="Invoice FA")
    invoice_link.click()
    pdf = page.request.get(page.url + ".pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    page.goto(f"/{SLUG}/sales/invoices/?state=partial")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Partly paid")


def test_on_a_phone_the_sales_pages_work(app, org, pages, sign_in, shot):
    customer = make_thirdparty(app, org, "Panificio Russo")
    product = make_product(app, org, ref="PANE-KG", label="Pane casereccio", unit_price="3.20", vat_rate="4", unit="kg")
    page = pages.phone()
    _accept_confirms(page)
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/sales/invoices/customers/{customer.id}/new")
    shot(page, "phone-invoice-new")
    page.get_by_role("button", name="Create the draft").click()
    page.get_by_label("Product or service").select_option(str(product.id))
    page.get_by_label("Quantity").fill("25")
    page.get_by_role("button", name="Add the line").click()
    expect(page.locator(".totals")).to_contain_text("83.20")  # 25 × 3.20 = 80.00 + 4 % = 3.20
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("h1")).to_contain_text("Invoice FA")
    shot(page, "phone-invoice")
    page.get_by_role("button", name="Record a payment").click()
    page.get_by_label("Amount received").fill("83.20")
    shot(page, "phone-payment")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator(".sales-box")).to_contain_text("0 unpaid invoices")
    page.goto(f"/{SLUG}/sales/invoices/")
    expect(page.locator("#results")).to_contain_text("Paid")
    shot(page, "phone-invoices")
    page.goto(f"/{SLUG}/sales/products/")
    expect(page.locator("#results")).to_contain_text("Pane casereccio")
    shot(page, "phone-products")
