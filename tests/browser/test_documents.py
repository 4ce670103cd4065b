"""Document journeys in a real browser: dropping and choosing files, a refused program, the cards'
documents boxes, the document page (preview, download, who opened it) and the edit form.

The live server, the session app's file store (a local folder) and Chromium; nothing mocked, every
wait auto-waiting. A desktop for the office work, a phone (390×844) for what people do on the road.
"""
import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.documents import uploads
from app.extensions import db
from app.models import ThirdParty
from app.storage import get_storage
from tests.customers import _acting, make_contact, make_tag, make_thirdparty
from tests.documents.support import PDF, documents_of, png, versions_of
from tests.factories import make_tenant, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "studio-ferri"
UUID = r"[0-9a-f-]{36}"
STATUS_415 = r"status of 415 "  # the console line Chromium logs for the refused file's request (answered 415)

# Builds a DataTransfer holding real File objects in the page: what the browser hands a drop handler.
_DATA_TRANSFER = """(files) => {
  const transfer = new DataTransfer();
  for (const file of files) {
    transfer.items.add(new File([new Uint8Array(file.bytes)], file.name, { type: file.type }));
  }
  return transfer;
}"""


@pytest.fixture
def org(app):
    owner = make_user(app, email="elena@studioferri.example.com", name="Elena Ferri")
    return make_tenant(app, slug=SLUG, name="Studio Ferri", owner=owner)


def drop_files(page, files: list[tuple[str, bytes, str]]) -> None:
    """Drop ``files`` (name, bytes, type) on the upload zone as a user dragging them from the desktop would."""
    transfer = page.evaluate_handle(_DATA_TRANSFER, [{"name": n, "bytes": list(b), "type": t} for n, b, t in files])
    target = page.locator("[data-drop-target]")
    target.dispatch_event("dragenter", {"dataTransfer": transfer})
    target.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(target).to_have_class(re.compile(r"\bdragging\b"))  # the zone shows it will take the files
    target.dispatch_event("drop", {"dataTransfer": transfer})
    expect(target).not_to_have_class(re.compile(r"\bdragging\b"))
    transfer.dispose()


def upload_row(page, name: str):
    """The progress/answer row of one file in the upload list."""
    return page.locator("[data-upload-list] > li").filter(has=page.locator(".upload-name", has_text=name))


def stored_keys(app, tenant) -> list[str]:
    """Every object the file store holds for ``tenant``."""
    with app.app_context():
        return sorted(get_storage().keys(f"tenants/{tenant.id}/"))


def add_document(app, tenant, thirdparty_id, name: str, data: bytes, *, folder: str = ""):
    """Store a document through the upload service, as the owner; return its id."""
    limits = uploads.Limits(max_bytes=app.config["DOCUMENT_MAX_BYTES"], quota_bytes=app.config["DOCUMENT_QUOTA_BYTES"])
    with _acting(app, tenant, tenant.owner) as viewer:
        tp = db.session.scalar(select(ThirdParty).where(ThirdParty.id == thirdparty_id))
        done = uploads.store_upload(viewer, get_storage(), FileStorage(io.BytesIO(data), filename=name), thirdparty=tp,
                                    contact=None, folder=folder, limits=limits)
        return done.document.id


# --- drag and drop two files (desktop) ------------------------------------------------------------

def test_drop_two_files_each_gets_its_answer_and_both_are_listed(app, org, pages, sign_in, live_server):
    customer = make_thirdparty(app, org, "Ceramiche Nardi")
    documents_url = f"/{SLUG}/documents/customers/{customer.id}"
    picture = png(120, 80)
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(documents_url)
    expect(page.locator("#results")).to_contain_text("No documents yet.")

    drop_files(page, [("offer-2024.pdf", PDF, "application/pdf"), ("kiln-photo.png", picture, "image/png")])

    # One row per file, each ending with its own success answer (and its progress bar gone).
    rows = page.locator("[data-upload-list] > li")
    expect(rows).to_have_count(2)
    for name in ("offer-2024.pdf", "kiln-photo.png"):
        row = upload_row(page, name)
        expect(row.locator(".upload-ok")).to_contain_text(name)
        expect(row.locator(".upload-ok a")).to_have_attribute("href", re.compile(rf"/{SLUG}/documents/{UUID}$"))
        expect(row.locator("progress")).to_have_count(0)
        expect(row.locator(".upload-error")).to_have_count(0)

    # The list below is fetched again once the uploads are done, without a page load...
    listed = page.locator("#results tbody tr")
    expect(listed).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("offer-2024.pdf")
    expect(page.locator("#results")).to_contain_text("kiln-photo.png")
    # ... and they are still there after one.
    page.reload()
    expect(listed).to_have_count(2)
    expect(listed.filter(has_text="offer-2024.pdf")).to_have_count(1)
    image_row = listed.filter(has_text="kiln-photo.png")
    thumb = image_row.locator("img.doc-thumb")
    expect(thumb).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())

    stored = {d["name"]: d for d in documents_of(app, org, customer.id)}
    assert set(stored) == {"offer-2024.pdf", "kiln-photo.png"}
    assert (stored["offer-2024.pdf"]["mime"], stored["offer-2024.pdf"]["size"]) == ("application/pdf", len(PDF))
    assert (stored["kiln-photo.png"]["mime"], stored["kiln-photo.png"]["size"]) == ("image/png", len(picture))

    # The customer's card: the documents box counts and lists them; the timeline says they were added.
    page.goto(f"/{SLUG}/thirdparties/{customer.id}")
    box = page.locator(".documents-box")
    expect(box.locator("summary")).to_have_text("Documents (2)")
    expect(box.locator(".doc-list li")).to_have_count(2)
    expect(box.get_by_role("link", name="offer-2024.pdf")).to_be_visible()
    expect(box.get_by_role("link", name="kiln-photo.png")).to_be_visible()
    expect(page.locator("#timeline-list li.event", has_text="Document added")).to_have_count(2)
    box.get_by_role("link", name="offer-2024.pdf").click()
    page.wait_for_url(re.compile(rf"/{SLUG}/documents/{UUID}$"))
    expect(page.locator("h1")).to_have_text("offer-2024.pdf")


# --- a refused program next to a good file (desktop) ---------------------------------------------

def test_a_refused_program_is_named_under_its_own_row_and_the_other_file_is_kept(app, org, pages, sign_in):
    pages.expect_console(STATUS_415)
    customer = make_thirdparty(app, org, "Vetreria Conti")
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/documents/customers/{customer.id}")

    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
    drop_files(page, [("setup.exe", program, "application/x-msdownload"), ("price-list.pdf", PDF, "application/pdf")])

    refused = upload_row(page, "setup.exe")
    expect(refused.locator(".upload-error")).to_have_text("setup.exe was refused: programs and scripts cannot be stored.")
    expect(refused.locator(".upload-error")).to_have_attribute("role", "alert")
    expect(refused.locator(".upload-ok")).to_have_count(0)
    expect(refused.locator("progress")).to_have_count(0)
    kept = upload_row(page, "price-list.pdf")
    expect(kept.locator(".upload-ok")).to_contain_text("price-list.pdf")
    expect(kept.locator(".upload-error")).to_have_count(0)

    listed = page.locator("#results tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("price-list.pdf")
    page.reload()
    expect(listed).to_have_count(1)
    expect(page.locator("#results")).not_to_contain_text("setup.exe")

    # Nothing of the program was saved: no document, no version, no object in the store.
    documents = documents_of(app, org, customer.id, deleted=None)
    assert [d["name"] for d in documents] == ["price-list.pdf"]
    versions = versions_of(app, org)
    assert [v["filename"] for v in versions] == ["price-list.pdf"]
    assert stored_keys(app, org) == [versions[0]["key"]]


# --- a photo from the contact card, then its page and a download (phone) ------------------------

def test_phone_add_a_document_from_the_contact_card_then_open_and_download_it(app, org, pages, sign_in, shot, live_server):
    customer = make_thirdparty(app, org, "Falegnameria Gatti")
    make_contact(app, org, customer.id, "Gatti", first_name="Bruno")  # another contact of the same customer
    contact = make_contact(app, org, customer.id, "Rinaldi", first_name="Sara", job_title="Buyer")
    contact_url = f"/{SLUG}/contacts/{contact.id}"
    picture = png(200, 150, colour=(20, 120, 200))
    page = pages.phone()
    sign_in(page, org.owner.email)
    page.goto(contact_url)

    box = page.locator(".documents-box")
    expect(box.locator("summary")).to_have_text("Documents (0)")
    expect(box).to_contain_text("No documents yet.")
    box.get_by_role("link", name="+ Add documents").tap()
    page.wait_for_url(live_server(f"/{SLUG}/documents/customers/{customer.id}?contact={contact.id}"))
    # The form is about Sara already, and the list shows only what is about her.
    expect(page.get_by_label("About a contact")).to_have_value(str(contact.id))
    expect(page.locator(".filter-chip")).to_contain_text("About Sara Rinaldi")

    page.locator("[data-file-input]").first.set_input_files(
        files=[{"name": "workshop-door.png", "mimeType": "image/png", "buffer": picture}])
    row = upload_row(page, "workshop-door.png")
    expect(row.locator(".upload-ok")).to_contain_text("workshop-door.png")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("workshop-door.png")
    shot(page, "phone-documents-upload")

    # Back on the contact card (the browser's back button), the box lists it.
    page.go_back()
    page.wait_for_url(live_server(contact_url))
    expect(box.locator("summary")).to_have_text("Documents (1)")
    link = box.get_by_role("link", name="workshop-door.png")
    expect(link).to_be_visible()
    shot(page, "phone-contact-documents")
    [document] = documents_of(app, org, customer.id)
    assert document["name"] == "workshop-door.png"

    # The document page: the picture itself, and a download that hands back the very bytes sent.
    link.tap()
    page.wait_for_url(live_server(f"/{SLUG}/documents/{document['id']}"))
    expect(page.locator("h1")).to_have_text("workshop-door.png")
    preview = page.locator(".doc-preview img")
    expect(preview).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 200", arg=preview.element_handle())
    download_link = page.locator(".card-actions").get_by_role("button", name="Download")  # a link styled as a button
    expect(download_link).to_be_visible()
    with page.expect_download() as started:
        download_link.tap()
    download = started.value
    assert download.suggested_filename == "workshop-door.png"
    with open(download.path(), "rb") as file:
        assert file.read() == picture

    # Who opened it: the download (and the preview) are in the document's history.
    page.reload()
    opened = page.locator(".access-list li")
    expect(opened.filter(has_text="downloaded")).to_have_count(1)
    expect(opened.filter(has_text="downloaded")).to_contain_text("Elena Ferri")
    expect(opened.filter(has_text="downloaded")).to_contain_text("version 1")
    expect(opened.filter(has_text="viewed")).to_have_count(1)


# --- rename and move through the edit form (desktop) --------------------------------------------

def test_rename_and_move_a_document_then_the_timeline_says_so(app, org, pages, sign_in, live_server):
    customer = make_thirdparty(app, org, "Tipografia Sala")
    make_tag(app, org, "Signed", "green")
    document_id = add_document(app, org, customer.id, "scan0042.pdf", PDF)
    page = pages.desktop()
    sign_in(page, org.owner.email)
    page.goto(f"/{SLUG}/documents/{document_id}")
    expect(page.locator("h1")).to_have_text("scan0042.pdf")

    page.locator(".card-actions").get_by_role("button", name="Rename, move, tag").click()  # a link styled as a button
    page.wait_for_url(live_server(f"/{SLUG}/documents/{document_id}/edit"))
    form = page.locator("#document-editor")
    expect(form.get_by_label("Name")).to_have_value("scan0042.pdf")
    form.get_by_label("Name").fill("Framework contract 2024.pdf")
    form.get_by_label("Folder").fill("Contracts")
    form.get_by_label("Description").fill("Signed by both parties in March.")
    form.get_by_label("Signed").check()
    form.get_by_role("button", name="Save").click()

    page.wait_for_url(live_server(f"/{SLUG}/documents/{document_id}"))
    expect(page.locator("#flash")).to_contain_text("The document was saved.")
    expect(page.locator("h1")).to_have_text("Framework contract 2024.pdf")
    expect(page.locator(".card-details dl")).to_contain_text(re.compile(r"Folder\s*Contracts"))
    expect(page.locator(".breadcrumb").get_by_role("link", name="Contracts")).to_be_visible()
    expect(page.locator(".card-header .tag")).to_have_text("Signed")
    expect(page.locator(".card-header .note-text")).to_have_text("Signed by both parties in March.")
    [stored] = documents_of(app, org, customer.id)
    assert (stored["name"], stored["folder"]) == ("Framework contract 2024.pdf", "Contracts")

    # The customer's card: the timeline tells what changed, and the box shows the new name and folder.
    page.goto(f"/{SLUG}/thirdparties/{customer.id}")
    changed = page.locator("#timeline-list li.event", has_text="Document changed")
    expect(changed).to_have_count(1)
    expect(changed.locator(".changes")).to_contain_text("Name:")
    expect(changed.locator(".changes del").first).to_have_text("scan0042.pdf")
    expect(changed.locator(".changes ins").first).to_have_text("Framework contract 2024.pdf")
    expect(changed.locator(".changes li", has_text="Folder:").locator("ins")).to_have_text("Contracts")
    expect(changed.get_by_role("link", name="Open the document")).to_have_attribute(
        "href", f"/{SLUG}/documents/{document_id}")
    box = page.locator(".documents-box")
    expect(box.get_by_role("link", name="Framework contract 2024.pdf")).to_be_visible()
    expect(box).to_contain_text("Contracts ·")
