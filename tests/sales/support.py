"""Helpers of the sales tests: draft a document through the pages, add lines, validate, read rows back."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Payment, Product, SalesDocument
from app.tenancy import tenant_context
from tests.helpers import csrf_from

BOOK = {"quote": "quotes", "invoice": "invoices", "credit_note": "invoices"}


def idempotency_key(body: str) -> str:
    return re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', body).group(1)


def draft(browser, tenant, tp, kind="quote", **fields):
    """Draft a quote or an invoice for ``tp`` through its form; the response of the creation."""
    book = BOOK[kind]
    page = browser.get(f"/{tenant.slug}/sales/{book}/customers/{tp.id}/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "idempotency_key": idempotency_key(page), "title": "", "contact_id": "",
            "valid_until": "", "payment_days": "30", "note": "", **fields}
    return browser.post(f"/{tenant.slug}/sales/{book}/customers/{tp.id}", form)


def add_line(browser, tenant, doc, **fields):
    form = {"product_id": "", "description": "Consulting", "quantity": "1", "unit_price": "100", "discount": "",
            "vat_rate": "20", **fields}
    return browser.post(f"/{tenant.slug}/sales/{BOOK[doc.kind]}/{doc.id}/lines", form, htmx=True)


def validate(browser, tenant, doc):
    return browser.post(f"/{tenant.slug}/sales/{BOOK[doc.kind]}/{doc.id}/validate", {})


def documents(app, tenant, kind=None) -> list[SalesDocument]:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(SalesDocument).order_by(SalesDocument.created_at)
        rows = db.session.scalars(stmt.where(SalesDocument.kind == kind) if kind else stmt).all()
        for row in rows:
            row.lines  # noqa: B018 - loaded while the session is open
        db.session.expunge_all()
        return rows


def reload(app, tenant, doc) -> SalesDocument:
    return next(d for d in documents(app, tenant) if d.id == doc.id)


def make_product(app, tenant, ref="CONS-H", label="Consulting hour", unit_price="85.50", vat_rate="20", unit="hour"):
    from decimal import Decimal
    with app.app_context(), tenant_context(tenant.id):
        product = Product(ref=ref, label=label, unit_price=Decimal(unit_price), vat_rate=Decimal(vat_rate), unit=unit)
        db.session.add(product)
        db.session.commit()
        db.session.refresh(product)
        db.session.expunge(product)
        return product


def payments(app, tenant) -> list[Payment]:
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(Payment).order_by(Payment.created_at)).all()
        for row in rows:
            row.shares  # noqa: B018
        db.session.expunge_all()
        return rows


# --- orders, contracts, payments, shipments, reminders: the later books (appended) ---

BOOK.update({"order": "orders", "contract": "contracts"})


def show_url(tenant, doc) -> str:
    return f"/{tenant.slug}/sales/{BOOK[doc.kind]}/{doc.id}"


def press(browser, page: str, label: str):
    """Submit the form of ``page`` whose button reads ``label``, as a browser does without htmx (its hidden fields)."""
    import html as html_lib

    for match in re.finditer(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        attrs, body = match.groups()
        if re.search(r"<button[^>]*>\s*" + re.escape(html_lib.escape(label)) + r"\s*</button>", body):
            action = html_lib.unescape(re.search(r'\baction="([^"]+)"', attrs).group(1))
            hidden = {}
            for tag in re.findall(r'<input\b[^>]*\btype="hidden"[^>]*>', body):
                hidden[re.search(r'\bname="([^"]+)"', tag).group(1)] = html_lib.unescape(re.search(r'\bvalue="([^"]*)"', tag).group(1))
            return browser.client.post(action, data=hidden)
    raise AssertionError(f"no button {label!r} on the page")


def press_on(browser, tenant, doc, label: str):
    """Open ``doc``'s page and press its button ``label``."""
    return press(browser, browser.get(show_url(tenant, doc)).get_data(as_text=True), label)


def validated(app, browser, tenant, tp, kind="quote", lines=({},), **fields) -> SalesDocument:
    """A document of ``kind`` for ``tp`` drafted, given ``lines`` (add_line fields) and validated through the pages."""
    before = {d.id for d in documents(app, tenant, kind)}
    assert draft(browser, tenant, tp, kind, **fields).status_code == 303
    (doc,) = [d for d in documents(app, tenant, kind) if d.id not in before]
    for line in lines:
        assert add_line(browser, tenant, doc, **line).status_code == 200
    assert validate(browser, tenant, doc).status_code == 303
    doc = reload(app, tenant, doc)
    assert doc.status == "validated", f"{kind} not validated"
    return doc


def made_from(app, browser, tenant, source, label: str) -> SalesDocument:
    """The draft made by pressing ``label`` (Make it an order, Invoice it, Correct it…) on ``source``'s page."""
    before = {d.id for d in documents(app, tenant)}
    response = press_on(browser, tenant, source, label)
    assert response.status_code == 303, response.status_code
    (made,) = [d for d in documents(app, tenant) if d.id not in before]
    assert response.headers["Location"].endswith(show_url(tenant, made))
    return made


def set_columns(app, tenant, model, row_id, **values) -> None:
    """Change stored columns directly (dates moved into the past, an organisation's settings)."""
    from sqlalchemy import update

    with app.app_context(), tenant_context(tenant.id):
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def rows_of(app, tenant, model, *order) -> list:
    """Every row of ``model`` in ``tenant`` (detached), in ``order``."""
    with app.app_context(), tenant_context(tenant.id):
        rows = db.session.scalars(select(model).order_by(*order)).unique().all()
        db.session.expunge_all()
        return rows
