"""Documents attached to a sales document (issue 4): the signed quote, a delivery note, uploaded from its page, listed
there, and linked back from the document's page; a document of another customer or unreadable kind is refused."""
import io
import re
import uuid

from tests.customers import make_thirdparty
from tests.documents.support import PDF, documents_of
from tests.helpers import text_of
from tests.sales.support import validated


def _attach(browser, tenant, tp, doc, name="Signed copy.pdf"):
    return browser.post(f"/{tenant.slug}/documents/customers/{tp.id}",
                        {"folder": "Invoices", "contact_id": "", "idempotency_key": uuid.uuid4().hex,
                         "about_type": "sales_document", "about_id": str(doc.id), "files": [(io.BytesIO(PDF), name)]},
                        content_type="multipart/form-data")


def test_a_document_is_attached_to_an_invoice_from_its_page(app, browser, tenant, owner):
    tp, other = make_thirdparty(app, tenant, "Studio Valli"), make_thirdparty(app, tenant, "Someone else")
    invoice = validated(app, browser, tenant, tp, "invoice")
    page = browser.get(f"/{tenant.slug}/sales/invoices/{invoice.id}").get_data(as_text=True)
    assert "Nothing attached yet" in page and f'name="about_id" type="hidden" value="{invoice.id}"' in page

    response = _attach(browser, tenant, tp, invoice)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/sales/invoices/{invoice.id}")
    (document,) = documents_of(app, tenant, tp.id)
    page = text_of(browser.get(f"/{tenant.slug}/sales/invoices/{invoice.id}").get_data(as_text=True))
    assert "Signed copy.pdf" in page and "Documents (1)" in page
    shown = text_of(browser.get(f"/{tenant.slug}/documents/{document['id']}").get_data(as_text=True))
    assert re.search(rf"Attached to\s+Invoice {invoice.number}", shown)

    # The invoice of another customer is not found: nothing is stored.
    assert _attach(browser, tenant, other, invoice, "Elsewhere.pdf").status_code == 404
    assert documents_of(app, tenant, other.id) == []
