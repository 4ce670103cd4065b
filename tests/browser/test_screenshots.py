"""Every main page at phone size (390×844), and the main ones at desktop size (1280×800).

Each page must load without a console error or CSP violation and must not scroll sideways on a
phone. The screenshots land in test-artifacts/screenshots/ for a human to look at.
"""
from dataclasses import dataclass

import pytest

from app.admin.services import invite_member
from app.extensions import db
from app.models import utcnow
from app.permissions import load_viewer
from app.team import get_role
from app.tenancy import tenant_context
from tests.factories import CLIENT, add_member, make_tenant, make_user, role_id

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips these tests (or fails them under STORIA_REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

SLUG = "bottega-lunga"
PHONE_WIDTH = 390
CUSTOMER = "Manifattura Tessile Montagnani della Rovere e Figli S.p.A."
CONTACT = "Maria Vittoria Giovanna Bellincioni-Serravalle"
TASK = "Richiamare la signora Bellincioni-Serravalle per confermare la consegna dei campioni autunnali"
DOCUMENT = "Contratto quadro di fornitura tessuti 2026-2028 firmato da entrambe le parti.pdf"


@dataclass(frozen=True)
class Screen:
    name: str           # the screenshot is <device>-<name>.png
    path: str
    heading: str        # the page's <h1>, to know it is the page we meant
    signed_in: bool = True
    status: int = 200


SCREENS = [
    Screen("landing", "/", "Every customer's whole story, on one live timeline.", signed_in=False),
    Screen("signup", "/auth/signup", "Create your organisation", signed_in=False),
    Screen("signin", "/auth/login", "Sign in", signed_in=False),
    Screen("forgot-password", "/auth/forgot", "Forgot your password?", signed_in=False),
    Screen("check-inbox", "/auth/check-inbox?reason=signup", "Check your inbox", signed_in=False),
    Screen("account", "/auth/account", "My account"),
    Screen("organisations", "/orgs", "Your organisations"),
    Screen("home", f"/{SLUG}/", "Bottega Lunga dei Fratelli Montagnani e Figli"),
    Screen("team", f"/{SLUG}/admin/members", "Team"),
    Screen("roles", f"/{SLUG}/admin/roles", "Roles"),
    Screen("role-form", f"/{SLUG}/admin/roles/new", "New role"),
    Screen("group-form", f"/{SLUG}/admin/groups/new", "New group"),
    Screen("security-log", f"/{SLUG}/admin/security-log", "Security log"),
    Screen("settings", f"/{SLUG}/admin/settings", "Organisation settings"),
    Screen("404", "/auth/no-such-page", "Not found", signed_in=False, status=404),
    # The customer history ({customer}, {contact}, {note} come from the ``history`` fixture).
    Screen("customers", f"/{SLUG}/thirdparties/", "Customers and suppliers"),
    Screen("customer-new", f"/{SLUG}/thirdparties/new", "New customer or supplier"),
    Screen("customer-card", f"/{SLUG}/thirdparties/{{customer}}", CUSTOMER),
    Screen("customer-edit", f"/{SLUG}/thirdparties/{{customer}}/edit", f"Edit {CUSTOMER}"),
    Screen("contact-card", f"/{SLUG}/contacts/{{contact}}", CONTACT),
    Screen("contact-form", f"/{SLUG}/contacts/{{contact}}/edit", f"Edit {CONTACT}"),
    Screen("contact-move", f"/{SLUG}/contacts/{{contact}}/move?q=seconda", f"Move {CONTACT} to another company"),
    Screen("note-history", f"/{SLUG}/timeline/notes/{{note}}/versions", "History of the note"),
    Screen("documents", f"/{SLUG}/documents/customers/{{customer}}", "Documents"),
    Screen("document", f"/{SLUG}/documents/{{document}}", DOCUMENT),
    Screen("document-image", f"/{SLUG}/documents/{{image}}", "Campionario tessuti primavera-estate.png"),
    Screen("document-edit", f"/{SLUG}/documents/{{document}}/edit", "Rename, move, tag"),
    Screen("documents-find", f"/{SLUG}/documents/?q=contratto", "Documents"),
    Screen("documents-trash", f"/{SLUG}/documents/trash", "Trash"),
    Screen("log-interaction", f"/{SLUG}/agenda/customers/{{customer}}/log?contact={{contact}}", "Log an interaction"),
    Screen("plan", f"/{SLUG}/agenda/customers/{{customer}}/plan?contact={{contact}}", "Plan a task or an appointment"),
    Screen("agenda", f"/{SLUG}/agenda/", "Agenda"),
    Screen("agenda-week", f"/{SLUG}/agenda/?view=week&who=team", "Agenda"),
    Screen("agenda-month", f"/{SLUG}/agenda/?view=month", "Agenda"),
    Screen("agenda-item", f"/{SLUG}/agenda/items/{{task}}", TASK),
    Screen("agenda-edit", f"/{SLUG}/agenda/items/{{task}}/edit", f"Change {TASK}"),
    Screen("agenda-choose", f"/{SLUG}/agenda/new/plan", "Plan a task or appointment"),
    Screen("calendar-feed", f"/{SLUG}/agenda/feed", "Calendar and reminders"),
    Screen("catalog", f"/{SLUG}/admin/catalog", "Tags and fields"),
    Screen("audit-log", f"/{SLUG}/admin/audit", "Audit log"),
]


@pytest.fixture
def organisation(app):
    """An organisation with long names (the usual cause of sideways scrolling), a few members,
    an open invitation and a second organisation for the chooser."""
    owner = make_user(app, email="margherita.montagnani-dellarovere@bottega-lunga.example.com",
                      name="Margherita Montagnani della Rovere")
    tenant = make_tenant(app, slug=SLUG, name="Bottega Lunga dei Fratelli Montagnani e Figli", owner=owner)
    make_tenant(app, slug="seconda-sede", name="Seconda Sede", owner=owner)
    add_member(app, tenant, make_user(app, email="giovanni.battista.serafini@bottega-lunga.example.com",
                                      name="Giovanni Battista Serafini"), role="accounting")
    add_member(app, tenant, make_user(app, email="lucia@example.com", name="Lucia Bassi"), role="support", active=False)
    support = role_id(app, tenant, "support")
    with app.app_context(), tenant_context(tenant.id, user_id=owner.id):
        invite_member(load_viewer(owner.id), "new.colleague.with.a.long.address@bottega-lunga.example.com",
                      get_role(support), utcnow() + app.config["INVITATION_MAX_AGE"], CLIENT)
        db.session.commit()
    return tenant


@pytest.fixture
def history(app, organisation):
    """A customer with long values everywhere (the usual cause of sideways scrolling), a contact,
    an edited note, tags, custom fields and some history; the ids the customer screens need."""
    from tests.customers import _acting, add_event, make_contact, make_field, make_tag, make_thirdparty

    tags = [make_tag(app, organisation, name, colour) for name, colour in
            [("Wholesale", "green"), ("Key account — northern Italy", "blue"), ("Late payer", "red")]]
    make_field(app, organisation, "Sector", "choice", choices=["Fashion", "Furniture", "Hospitality and catering"],
               show_in_list=True)
    make_field(app, organisation, "Annual turnover", "money", show_in_list=True)
    make_field(app, organisation, "Birthday", "date", entity="contact")
    customer = make_thirdparty(
        app, organisation, CUSTOMER, is_supplier=True, vat_number="IT01234567890",
        website="https://www.manifattura-tessile-montagnani-della-rovere.example.com/catalogo/autunno-inverno",
        phones=[["Centralino", "+39 015 555 0101"], ["Magazzino di Cossato", "+39 015 555 0202"]],
        emails=[["Amministrazione", "amministrazione.fornitori@manifattura-tessile-montagnani.example.com"]],
        addresses=[["Stabilimento", "Via Lamarmora 112, Zona Industriale Nord", "13900", "Biella", "IT"]],
        tag_ids=tags, custom={"sector": "Hospitality and catering", "annual_turnover": "1250000.00"},
        description="Third-generation mill; orders twice a year.")
    make_thirdparty(app, organisation, "Seconda Manifattura Biellese")
    contact = make_contact(app, organisation, customer.id, "Bellincioni-Serravalle", first_name="Maria Vittoria Giovanna",
                           job_title="Responsabile acquisti tessuti e accessori",
                           emails=[["Lavoro", "maria.vittoria.bellincioni-serravalle@manifattura-tessile.example.com"]],
                           phones=[["Cellulare", "+39 333 555 0303"]], consent_email=True)
    with _acting(app, organisation, organisation.owner) as viewer:
        from app.timeline import notes

        note, _ = notes.create_note(viewer, thirdparty_id=customer.id, contact_id=contact.id, pinned=True, private=False,
                                    idempotency_key=None, body="Prefers deliveries on Tuesday mornings; see "
                                    "https://www.manifattura-tessile-montagnani.example.com/consegne/calendario-2026")
        notes.update_note(viewer, note, note.body.replace("Tuesday", "Thursday"), version=note.version, base_body=note.body)
        notes.create_note(viewer, thirdparty_id=customer.id, contact_id=None, pinned=False, private=True,
                          idempotency_key=None, body="Private: credit limit 20,000 EUR until the March invoices are paid.")
        note_id = note.id
        documents = _documents(viewer, customer.id)
        task_id = _agenda(viewer, customer.id, contact.id)
    for n in range(6):
        add_event(app, organisation, customer.id, title=CUSTOMER, payload={"changes": {"website": [
            f"https://old-{n}.example.com/a-rather-long-path/to-an-old-catalogue", "https://new.example.com"]}})
    return {"customer": customer.id, "contact": contact.id, "note": note_id, "task": task_id, **documents}


def _agenda(viewer, customer_id, contact_id):
    """An overdue task with a long title, a weekly appointment, a task done and a logged call, around today."""
    from datetime import timedelta

    from app.agenda import reminders, services

    now = utcnow().replace(minute=0, second=0, microsecond=0)

    def plan(title, kind, starts, **values):
        item, _ = services.plan(viewer, thirdparty_id=customer_id, contact_id=contact_id, values={
            "kind": kind, "title": title, "body": "", "starts_at": starts, "due_at": starts if kind == "task" else None,
            "ends_at": starts + timedelta(hours=1) if kind == "appointment" else None, "all_day": False,
            "priority": "normal", "location": "", "zone": "Europe/Rome", "recurrence": "", **values},
            assignee_ids=[viewer.user_id], idempotency_key=None)
        return item

    task = plan(TASK, "task", now - timedelta(days=1), priority="high")
    plan("Riunione settimanale con l'ufficio acquisti della manifattura", "appointment", now + timedelta(hours=2),
         recurrence="FREQ=WEEKLY;COUNT=6", location="https://meet.example.com/manifattura-tessile-riunione-settimanale")
    services.set_done(viewer, plan("Send the autumn samples", "task", now + timedelta(hours=3)), True)
    services.log_interaction(viewer, thirdparty_id=customer_id, contact_id=contact_id, idempotency_key=None, values={
        "kind": "call", "direction": "inbound", "starts_at": now - timedelta(hours=3), "duration_minutes": 12,
        "outcome": "Reached", "title": "Asked for the new price list", "body": "", "meeting_mode": None, "location": ""})
    reminders.send_due(now + timedelta(hours=1, minutes=35))  # the appointment's reminder, in the list and the badge
    return task.id


def _documents(viewer, customer_id) -> dict:
    """A signed contract in two versions, a photo of fabric samples, and a scan in the trash."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from app.documents import services
    from app.documents.uploads import Limits, store_upload
    from app.models import ThirdParty
    from app.storage import get_storage

    customer = db.session.get(ThirdParty, (viewer.tenant_id, customer_id))
    limits = Limits(max_bytes=10 * 1024 * 1024, quota_bytes=1024 * 1024 * 1024)
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    picture = io.BytesIO()
    Image.new("RGB", (1200, 800), (140, 90, 60)).save(picture, "PNG")

    def put(name, content, folder):
        return store_upload(viewer, get_storage(), FileStorage(io.BytesIO(content), name), thirdparty=customer, contact=None,
                            folder=folder, limits=limits)

    put(DOCUMENT, pdf, "Contracts")
    contract = put(DOCUMENT, pdf + b"%signed", "Contracts")
    image = put("Campionario tessuti primavera-estate.png", picture.getvalue(), "Scans")
    services.move_to_trash(viewer, put("Old scan.pdf", pdf, "Scans").document)
    return {"document": contract.document.id, "image": image.document.id}


def _check(page, screen: Screen, shot, device: str):
    expect(page.locator("h1")).to_have_text(screen.heading)
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    shot(page, f"{device}-{screen.name}")
    if width > viewport:  # name the culprits: the deepest elements reaching past the right edge
        wide = page.evaluate("""(limit) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > limit && ![...e.children].some(c => c.getBoundingClientRect().right > limit))
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""", viewport)
    assert width <= viewport, f"{screen.path} scrolls sideways at {viewport}px: {width}px wide ({wide})"


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_phone_page(screen, organisation, history, pages, sign_in, shot):
    if screen.status != 200:
        pages.expect_console(rf"status of {screen.status} ")
    page = pages.phone()
    if screen.signed_in:
        sign_in(page, organisation.owner.email)
    response = page.goto(screen.path.format(**history))
    assert response.status == screen.status
    _check(page, screen, shot, "phone")


@pytest.mark.parametrize("name", ["home", "team", "roles", "security-log", "audit-log", "customers", "customer-card",
                                  "contact-card", "documents", "document", "document-image", "agenda", "agenda-week",
                                  "agenda-month", "agenda-item"])
def test_desktop_page(name, organisation, history, pages, sign_in, shot):
    screen = next(s for s in SCREENS if s.name == name)
    page = pages.desktop()
    sign_in(page, organisation.owner.email)
    assert page.goto(screen.path.format(**history)).status == 200
    _check(page, screen, shot, "desktop")
