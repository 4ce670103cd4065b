"""The global search (issue 14, point 4): every kind is indexed and found, accents and capitals aside; the index
follows every write in its transaction; rights apply as in the lists; bad input never breaks it; the pages."""
import pytest
from sqlalchemy import select

from app.documents import services as document_services
from app.editing import lock
from app.extensions import db
from app.models import Document
from app.sales import services as sales_services
from app.timeline import notes as note_services
from tests.customers import archive_thirdparty, make_contact, make_thirdparty, update_thirdparty
from tests.factories import add_member, make_tenant, make_user
from tests.helpers import Browser, text_of
from tests.search.support import (
    acting,
    add_note,
    found,
    found_ids,
    make_sales_document,
    note_row,
    sales_row,
    terms_of,
    upload_document,
)


@pytest.fixture
def world(app, tenant, owner):
    """A customer with details, a contact, a note, a document and a quote, order and invoice."""
    tp = make_thirdparty(app, tenant, "Società Ferrari", vat_number="IT 0123 4567 890",
                         phones=[["", "+39 02 1234 5678"]], emails=[["", "ordini@ferrari.example"]],
                         addresses=[["HQ", "Via Roma 1", "20121", "Milano", "IT"]])
    contact = make_contact(app, tenant, tp.id, "Dubois", first_name="Clémence", emails=[["", "clemence@dubois.example"]],
                           phones=[["", "06 12 34 56 78"]])
    note = add_note(app, tenant, tp.id, "Le Café des Arts wants a second espresso machine in Œuvre hall")
    document = upload_document(app, tenant, owner, tp.id, "Contratto quadro.pdf")
    quote = make_sales_document(app, tenant, tp.id, "quote", title="Nuovo impianto")
    order = make_sales_document(app, tenant, tp.id, "order")
    invoice = make_sales_document(app, tenant, tp.id, "invoice")
    return {"tp": tp, "contact": contact, "note": note, "document": document, "quote": quote, "order": order,
            "invoice": invoice}


def _words(page: str) -> str:
    return " ".join(text_of(page).split())


def _kinds(app, tenant, text, user=None):
    return {kind: [i for i, _t in hits] for kind, hits in found(app, tenant, user or tenant.owner, text).items()}


@pytest.mark.parametrize("text", ["societa", "SOCIETÀ", "ferr", "socie ferr", "milano", "20121", "IT01234567890",
                                  "0123 4567", "ordini@ferrari", "02 1234 5678", "12345678", "+39 02 12"])
def test_a_customer_is_found_by_its_name_code_vat_email_phone_and_city(app, tenant, world, text):
    assert world["tp"].id in _kinds(app, tenant, text).get("customer", []), text


def test_a_customer_is_found_by_its_code(app, tenant, world):
    assert world["tp"].id in _kinds(app, tenant, world["tp"].code).get("customer", [])


@pytest.mark.parametrize("text", ["clemence", "Clémence Dubois", "dubois cle", "clemence@dubois", "0612345678", "06 12 34"])
def test_a_contact_is_found_by_name_email_and_phone_and_leads_to_its_customer(app, tenant, world, text):
    hits = found(app, tenant, tenant.owner, text)["contact"]
    assert [hit_id for hit_id, _title in hits] == [world["contact"].id]


def test_a_contact_hit_opens_its_customer_card(app, tenant, world, owner):
    page = owner.get(f"/{tenant.slug}/search/?q=clemence").get_data(as_text=True)
    assert f'href="/{tenant.slug}/thirdparties/{world["tp"].id}"' in page
    assert f'href="/{tenant.slug}/contacts/{world["contact"].id}"' in page
    assert "Società Ferrari" in _words(page)


@pytest.mark.parametrize("text", ["cafe", "café des", "oeuvre", "ESPRESSO"])
def test_a_note_is_found_by_its_words_accents_aside(app, tenant, world, text):
    assert _kinds(app, tenant, text).get("note") == [world["note"]]


def test_a_document_is_found_by_its_name(app, tenant, world):
    assert _kinds(app, tenant, "contratto quadro").get("document") == [world["document"]]


def test_sales_documents_are_found_by_number_and_customer(app, tenant, world):
    for kind in ("quote", "order", "invoice"):
        doc_id, number = world[kind]
        assert _kinds(app, tenant, number).get(kind) == [doc_id], number
        assert doc_id in _kinds(app, tenant, "ferrari").get(kind, []), kind
    assert _kinds(app, tenant, "impianto").get("quote") == [world["quote"][0]]


# --- the index follows every write, in its transaction ------------------------------------------------------------

def test_a_renamed_customer_is_found_by_its_new_name_only_and_its_documents_follow(app, tenant, world):
    update_thirdparty(app, tenant, world["tp"].id, name="Bottega Verdi")
    assert world["tp"].id in _kinds(app, tenant, "verdi").get("customer", [])
    assert "customer" not in _kinds(app, tenant, "societa")
    assert world["invoice"][0] in _kinds(app, tenant, "verdi").get("invoice", [])  # its customer's name, indexed with it
    assert "invoice" not in _kinds(app, tenant, "societa")


def test_an_edited_note_is_found_by_its_new_text(app, tenant, world):
    with acting(app, tenant) as viewer:
        note = note_row(world["note"])
        note_services.update_note(viewer, note, "Ristorante Zafferano called back", version=note.version,
                                  base_body=note.body)
        db.session.commit()
    assert _kinds(app, tenant, "zafferano").get("note") == [world["note"]]
    assert "note" not in _kinds(app, tenant, "espresso")


def test_a_document_in_the_trash_is_not_found_and_comes_back_when_restored(app, tenant, world):
    with acting(app, tenant) as viewer:
        document_services.move_to_trash(viewer, db.session.scalar(select(Document).where(Document.id == world["document"])))
    assert "document" not in _kinds(app, tenant, "contratto")
    assert terms_of(app, tenant, world["document"]) == set()
    with acting(app, tenant) as viewer:
        document_services.restore(viewer, db.session.scalar(select(Document).where(Document.id == world["document"])))
        db.session.commit()
    assert _kinds(app, tenant, "contratto").get("document") == [world["document"]]


def test_a_deleted_draft_leaves_the_index(app, tenant, world):
    draft_id, _number = make_sales_document(app, tenant, world["tp"].id, "quote", title="Bozza effimera", validated=False)
    assert _kinds(app, tenant, "effimera").get("quote") == [draft_id]
    with acting(app, tenant):
        sales_services.delete_draft(sales_row(draft_id))
        db.session.commit()
    assert "quote" not in _kinds(app, tenant, "effimera")
    assert terms_of(app, tenant, draft_id) == set()


def test_a_write_rolled_back_leaves_the_index_as_it_was(app, tenant, world):
    with acting(app, tenant):
        lock(note_row(world["note"])).body = "Rolled back words: zanzibar"
        db.session.flush()
        db.session.rollback()
    assert "note" not in _kinds(app, tenant, "zanzibar")
    assert _kinds(app, tenant, "espresso").get("note") == [world["note"]]


def test_an_archived_customer_is_still_found_and_says_so(app, tenant, world, owner):
    archive_thirdparty(app, tenant, world["tp"].id)
    page = _words(owner.get(f"/{tenant.slug}/search/?q=ferrari&kind=customer").get_data(as_text=True))
    assert "Società Ferrari (archived)" in page


# --- rights, exactly as the lists ---------------------------------------------------------------------------------

@pytest.fixture
def colleagues(app, tenant, owner):
    """Sam and Sue (sales, only their customers) are reps of "Mine Zebra Corp", where Sue wrote a private note; Sue
    alone of "Hidden Zebra Corp", which has a contact, a note, a document and a quote, all saying "zebra"."""
    sam = add_member(app, tenant, make_user(app, name="Sam Sales"), role="sales")
    sue = add_member(app, tenant, make_user(app, name="Sue Sales"), role="sales")
    mine = make_thirdparty(app, tenant, "Mine Zebra Corp", reps=[sam, sue])
    hidden = make_thirdparty(app, tenant, "Hidden Zebra Corp", reps=[sue])
    records = {
        "customer": hidden.id,
        "contact": make_contact(app, tenant, hidden.id, "Zebra-Zorzi", first_name="Zeno").id,
        "note": add_note(app, tenant, hidden.id, "zebra crossing"),
        "document": upload_document(app, tenant, owner, hidden.id, "zebra.pdf"),
        "quote": make_sales_document(app, tenant, hidden.id, "quote", title="Zebra")[0],
    }
    private = add_note(app, tenant, mine.id, "zebra secret of Sue", by=sue, private=True)
    return {"sam": sam, "sue": sue, "mine": mine, "hidden": records, "private": private}


def test_only_mine_finds_nothing_of_a_colleagues_customer(app, tenant, colleagues):
    seen = found_ids(app, tenant, colleagues["sam"], "zebra")
    assert colleagues["mine"].id in seen
    leaked = {kind for kind, record_id in colleagues["hidden"].items() if record_id in seen}
    assert leaked == set()
    # The owner sees all of them: the test would notice a search that found nothing at all.
    assert set(colleagues["hidden"].values()) <= found_ids(app, tenant, tenant.owner, "zebra")


def test_only_mine_pages_and_fragments_show_nothing_of_a_colleagues_customer(app, tenant, colleagues):
    sam = Browser(app.test_client())
    sam.login(colleagues["sam"].email)
    for url in ("/search/?q=zebra", "/search/?q=zebra&kind=customer", "/search/?q=zebra&kind=note",
                "/search/suggest?q=zebra"):
        page = sam.get(f"/{tenant.slug}{url}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "Hidden" not in page and "Zorzi" not in page and "crossing" not in page, url
        assert str(colleagues["hidden"]["customer"]) not in page


def test_a_private_note_is_found_only_by_its_author_and_who_may_read_private_notes(app, tenant, colleagues):
    private = colleagues["private"]
    assert private in found_ids(app, tenant, colleagues["sue"], "secret")
    assert private not in found_ids(app, tenant, colleagues["sam"], "secret")  # his customer too, not his note
    assert colleagues["mine"].id in found_ids(app, tenant, colleagues["sam"], "zebra")
    assert private in found_ids(app, tenant, tenant.owner, "secret")  # the owner may read private notes


def test_a_kind_the_viewer_may_not_read_is_not_searched(app, tenant, world):
    support = add_member(app, tenant, make_user(app), role="support")  # no quote or invoice rights
    kinds = set(found(app, tenant, support, "ferrari"))
    assert "customer" in kinds and not kinds & {"quote", "invoice"}


def test_another_organisations_records_are_never_found(app, tenant, world):
    other = make_tenant(app, name="Other Org")
    make_thirdparty(app, other, "Società Ferrari Bis")
    assert found(app, other, other.owner, "ferrari") .keys() == {"customer"}
    theirs = found_ids(app, other, other.owner, "ferrari")
    assert theirs and not theirs & found_ids(app, tenant, tenant.owner, "ferrari")
    outsider = Browser(app.test_client())
    outsider.login(other.owner.email)
    assert outsider.get(f"/{tenant.slug}/search/?q=ferrari").status_code == 404


# --- the pages -----------------------------------------------------------------------------------------------------

def test_the_results_page_groups_by_kind_with_a_filter_per_kind(app, tenant, world, owner):
    page = owner.get(f"/{tenant.slug}/search/?q=ferrari").get_data(as_text=True)
    text = text_of(page)
    for heading in ("Customers", "Quotes", "Orders", "Invoices"):
        assert heading in text
    assert f"/{tenant.slug}/search/?q=ferrari&amp;kind=quote" in page
    only = text_of(owner.get(f"/{tenant.slug}/search/?q=ferrari&kind=quote").get_data(as_text=True))
    assert world["quote"][1] in only and world["invoice"][1] not in only


def test_the_results_page_pages_through_one_kind(app, tenant, owner):
    for n in range(23):
        make_thirdparty(app, tenant, f"Pagina {n:02d}")
    first = owner.get(f"/{tenant.slug}/search/?q=pagina&kind=customer").get_data(as_text=True)
    second = owner.get(f"/{tenant.slug}/search/?q=pagina&kind=customer&page=2").get_data(as_text=True)
    assert text_of(first).count("Pagina ") == 20 and "page=2" in first
    assert text_of(second).count("Pagina ") == 3 and "page=1" in second


def test_the_suggestions_are_options_grouped_by_kind(app, tenant, world, owner):
    page = owner.get(f"/{tenant.slug}/search/suggest?q=ferr", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'role="group"' in page and 'role="option"' in page and "<mark>" in page
    assert "<html" not in page
    assert f"/{tenant.slug}/search/?q=ferr" in page  # "see all results"


def test_no_results_and_nothing_typed_are_said_in_words(app, tenant, world, owner):
    none = text_of(owner.get(f"/{tenant.slug}/search/?q=xylophone").get_data(as_text=True))
    assert "No results for “xylophone”" in none
    empty = text_of(owner.get(f"/{tenant.slug}/search/").get_data(as_text=True))
    assert "Type a name" in empty
    fragment = owner.get(f"/{tenant.slug}/search/suggest?q=xylophone", headers={"HX-Request": "true"})
    assert "No results for “xylophone”" in text_of(fragment.get_data(as_text=True))


def test_every_signed_in_page_has_the_search_box(app, tenant, owner):
    page = owner.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert 'id="topsearch-q"' in page and 'role="combobox"' in page and 'hx-sync="this:replace"' in page


@pytest.mark.parametrize("query", ["", "a", " " * 50, "x" * 5000, "tab\tand\nnewline", "％ＦＥＲＲＡＲＩ", "日本語",
                                   "🦓 zebra", "' OR 1=1 --", "%_\\", "ß" * 300, "\u0301\u200b", "a b c d e f g h i j k l m"])
def test_bad_input_never_breaks_the_search(app, tenant, world, owner, query):
    for url in ("/search/", "/search/suggest"):
        response = owner.client.get(f"/{tenant.slug}{url}", query_string={"q": query, "kind": query[:50], "page": query[:20]},
                                    headers={"HX-Request": "true"})
        assert response.status_code == 200, (url, query)


def test_a_nul_character_is_refused_as_every_page_refuses_it(app, tenant, owner):
    for url in ("/search/", "/search/suggest"):
        response = owner.client.get(f"/{tenant.slug}{url}", query_string={"q": "zebra\x00crossing"})
        assert response.status_code == 400


def test_fullwidth_letters_find_what_they_spell(app, tenant, world):
    assert world["tp"].id in _kinds(app, tenant, "ＦＥＲＲＡＲＩ").get("customer", [])


def test_marks_and_snippets_escape_what_they_show(app, tenant, owner):
    tp = make_thirdparty(app, tenant, "<b>Zeta</b> & <script>alert(1)</script> Srl")
    add_note(app, tenant, tp.id, "zeta " + "filler words " * 40 + "<img src=x onerror=alert(1)> zetalast")
    for url in (f"/{tenant.slug}/search/?q=zeta", f"/{tenant.slug}/search/suggest?q=zeta"):
        for htmx in (False, True):
            page = owner.get(url, headers={"HX-Request": "true"} if htmx else {}).get_data(as_text=True)
            assert "<script>alert" not in page and "<img" not in page and "<b>" not in page, url
            assert "&lt;b&gt;<mark>Zeta</mark>&lt;/b&gt;" in page, url
