"""Stored XSS slice (QUALITY T10) for the customer-history fields, on every page and fragment that shows them.

Each payload goes into every user-writable field of a third party, a contact, a tag, custom fields (labels
and values), a rep's display name and the customer-code pattern; the record is then changed and its contact
moved, so the payloads also reach the timeline's change lists. Every surface is parsed with html.parser:
no script element but the app's own, no ``on*`` or ``hx-on`` attribute, no ``hx-*`` attribute carrying user
text, no ``javascript:``/``data:`` URL, no unexpected element (img, svg, iframe, style...). Payloads with
``<`` or quotes must never appear verbatim.
"""
import re
from dataclasses import dataclass

import pytest

from tests.customers import form_fields as read_form
from tests.customers import (
    fragment,
    make_contact,
    make_field,
    make_tag,
    make_thirdparty,
    markup_problems,
    membership_of,
    move_contact,
    set_code_pattern,
    update_thirdparty,
)
from tests.factories import add_member, make_user

MARKER = "xss"
LATEST = "2999-01-01T00:00:00_ffffffff-ffff-7fff-bfff-ffffffffffff"
PAYLOADS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert('xss')>",
    '"><svg onload=alert("xss")>',
    "' onmouseover='alert(1)' data-xss='",
    '" autofocus onfocus="alert(1)" data-xss="',
    '<a href="javascript:alert(1)">xss</a>',
    '" hx-get="/xss" hx-trigger="load" x="',
    "<div hx-on:click=\"alert('xss')\">xss</div>",
    "<b oncontentvisibilityautostatechange=alert('xss')>",
    "</textarea><script>alert('xss')</script>",
    "</title><iframe srcdoc=xss></iframe>",
    "x onmouseover=alert(1) data-xss=y",
    "<style>@import'//xss.example'</style>",
    "javascript:alert('xss')",
    "data:text/html,<script>xss</script>",
    "{{7*7}}${7*7}<%= 7*7 %>xss",
]


RECORDS = 6


def mix(n: int) -> str:
    """All payloads end to end, starting with a different one for each record (short fields get its first)."""
    start = n * len(PAYLOADS) // RECORDS
    return "".join(PAYLOADS[start:] + PAYLOADS[:start])


@dataclass(frozen=True)
class Stored:
    tp_ids: list
    contact_ids: list


@pytest.fixture
def stored(app, tenant):
    """Third parties and contacts with payloads in every field, then changed and moved (payloads reach the timeline)."""
    reps = [membership_of(app, tenant, add_member(app, tenant, make_user(app, name=mix(n)[:120]), role="sales")) for n in range(3)]
    choice = make_field(app, tenant, mix(1)[:80], "choice", choices=[mix(n)[:80] for n in range(RECORDS)], show_in_list=True)
    text = make_field(app, tenant, mix(2)[:80], "text", show_in_list=True)
    contact_text = make_field(app, tenant, mix(3)[:80], "text", entity="contact")
    make_field(app, tenant, mix(4)[:80], "checkbox", entity="contact")
    tp_ids, contact_ids = [], []
    for n in range(RECORDS):
        payload = mix(n)
        tag = make_tag(app, tenant, f"{n}{payload}"[:60])
        set_code_pattern(app, tenant, payload[:24] + "{n}")
        tp = make_thirdparty(
            app, tenant, f"First {payload}"[:200], vat_number=payload[:32], website=payload[:255], description=payload,
            phones=[[payload[:40], f"01 {payload}"[:40]]], emails=[[payload[:40], payload[:254]]],
            addresses=[[payload[:40], payload[:500], payload[:20], payload[:100], "FR"]],
            custom={choice: payload[:80], text: payload[:500]},
        )
        update_thirdparty(app, tenant, tp.id, name=payload[:200], tag_ids=[str(tag)], rep_ids=[str(reps[n % len(reps)])],
                          phones=[[payload[:40], f"02 {payload}"[:40]]], custom={choice: payload[:80], text: f"new {payload}"[:500]})
        contact = make_contact(app, tenant, tp.id, payload[:100], first_name=payload[:100], job_title=payload[:120],
                               description=payload, phones=[[payload[:40], f"03 {payload}"[:40]]],
                               emails=[[payload[:40], payload[:254]]], custom={contact_text: payload[:500]})
        tp_ids.append(tp.id)
        contact_ids.append(contact.id)
    for contact_id, target in zip(contact_ids, tp_ids[1:] + tp_ids[:1], strict=True):
        move_contact(app, tenant, contact_id, target)  # moved-in/out events name both companies
    return Stored(tp_ids, contact_ids)


def _check(response, where: str) -> list[str]:
    body = response.get_data(as_text=True)
    problems = [f"{where}: {p}" for p in markup_problems(body, MARKER)]
    problems += [f"{where}: raw payload {p!r}" for p in PAYLOADS if any(c in p for c in "<\"'") and p in body]
    if response.status_code != 200:
        problems.append(f"{where}: status {response.status_code}")
    return problems


def _pages(owner, tenant):
    base = f"/{tenant.slug}"
    return {
        "list": owner.get(f"{base}/thirdparties/?status=all"),
        "list htmx": fragment(owner, f"{base}/thirdparties/?q={MARKER}&status=all"),
        "list filtered": owner.get(f"{base}/thirdparties/?kind=customer&sort=-updated"),
        "contact search": owner.get(f"{base}/contacts/"),
        "contact search htmx": fragment(owner, f"{base}/contacts/?q={MARKER}"),
        "dashboard": owner.get(f"{base}/"),
        "catalog": owner.get(f"{base}/admin/catalog"),
    }


def _cards(owner, tenant, tp_id, contact_id):
    base = f"/{tenant.slug}"
    return {
        "card": owner.get(f"{base}/thirdparties/{tp_id}"),
        "card timeline htmx": fragment(owner, f"{base}/thirdparties/{tp_id}?kind=changes"),
        "card older events": fragment(owner, f"{base}/thirdparties/{tp_id}?before={LATEST}"),
        "contact card": owner.get(f"{base}/contacts/{contact_id}"),
        "contact timeline htmx": fragment(owner, f"{base}/contacts/{contact_id}?text=a"),
        "edit": owner.get(f"{base}/thirdparties/{tp_id}/edit"),
        "new contact": owner.get(f"{base}/contacts/new?thirdparty={tp_id}"),
        "contact edit": owner.get(f"{base}/contacts/{contact_id}/edit"),
        "move": owner.get(f"{base}/contacts/{contact_id}/move?q={MARKER}"),
        "move htmx": fragment(owner, f"{base}/contacts/{contact_id}/move?q={MARKER}"),
    }


def _form_answers(app, owner, tenant, tp_id):
    """The edit form re-rendered with errors (422) and against someone else's change (409)."""
    base = f"/{tenant.slug}/thirdparties/{tp_id}/edit"
    form = read_form(owner.get(base).get_data(as_text=True), "thirdparty-form")
    invalid = owner.post(base, {**form, "emails-0-value": ["not an e-mail"]}, htmx=True)
    update_thirdparty(app, tenant, tp_id, name=f"Theirs {PAYLOADS[0]}")  # someone else saves meanwhile
    form.update({"name": [f"Mine {PAYLOADS[1]}"], "emails-0-value": ["ok@example.com"], "website": [""]})
    conflict = owner.post(base, form, htmx=True)
    assert (invalid.status_code, conflict.status_code) == (422, 409), re.findall(r"field-error\">([^<]*)", conflict.get_data(as_text=True))
    invalid.status_code = conflict.status_code = 200  # expected statuses, checked above
    return {"edit 422": invalid, "edit 409": conflict}


def _stream_events(owner, tenant, tp_id) -> list[str]:
    """The HTML of the first events the live stream sends (from the start of the timeline)."""
    response = owner.get(f"/{tenant.slug}/timeline/thirdparties/{tp_id}/stream?after=2000-01-01T00:00:00_"
                         "00000000-0000-7000-8000-000000000000", buffered=False)
    assert response.status_code == 200
    chunks, events = iter(response.response), []
    try:
        while len(events) < 3:  # created, updated, a contact event at least
            chunk = next(chunks)
            chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
            if chunk.startswith("id:"):
                events.append("\n".join(line[len("data: "):] for line in chunk.splitlines() if line.startswith("data: ")))
    finally:
        response.close()
    return events


def test_stored_payloads_render_inert_on_every_surface(app, owner, tenant, stored):
    problems = [p for where, response in _pages(owner, tenant).items() for p in _check(response, where)]
    for n, (tp_id, contact_id) in enumerate(zip(stored.tp_ids, stored.contact_ids, strict=True)):
        for where, response in _cards(owner, tenant, tp_id, contact_id).items():
            problems += _check(response, f"{where} #{n}")
        if n % 2 == 0:
            for where, response in _form_answers(app, owner, tenant, tp_id).items():
                problems += _check(response, f"{where} #{n}")
            for html in _stream_events(owner, tenant, tp_id):
                problems += [f"stream #{n}: {p}" for p in markup_problems(html, MARKER)]
                problems += [f"stream #{n}: raw {p!r}" for p in PAYLOADS if any(c in p for c in "<\"'") and p in html]
    assert problems == []


def test_payloads_typed_into_the_creation_form_stay_inert_in_the_flash_and_card(app, owner, tenant):
    problems = []
    for n in range(0, RECORDS, 2):
        payload = mix(n)
        page = owner.get(f"/{tenant.slug}/thirdparties/new").get_data(as_text=True)
        form = {**read_form(page, "thirdparty-form"), "name": [payload[:200]], "description": [payload],
                "phones-0-label": [payload[:40]], "phones-0-value": [f"01 {payload}"[:40]], "addresses-0-street": [payload[:500]],
                "addresses-0-city": [payload[:100]]}
        response = owner.post(f"/{tenant.slug}/thirdparties/", form, htmx=True)
        assert response.status_code == 200, n
        problems += _check(owner.get(response.headers["HX-Redirect"]), f"card after creating #{n}")
    assert problems == []


def test_the_checker_catches_live_markup():
    """The checks above would see a payload that got through (guards against a checker that sees nothing)."""
    assert markup_problems("<p><img src=x onerror=alert('xss')></p>", MARKER)
    assert markup_problems('<p data-x="" hx-get="/xss" hx-trigger="load"></p>', MARKER)
    assert markup_problems("<div hx-on:click=\"alert('xss')\">xss</div>", MARKER)
    assert markup_problems("<script>alert('xss')</script>", MARKER)
    assert markup_problems('<a href="javascript:alert(1)">xss</a>', MARKER)
    assert markup_problems("<b oncontentvisibilityautostatechange=alert(1)>", MARKER)
    assert not markup_problems('<p hx-confirm="Archive &lt;script&gt;xss?">&lt;script&gt;</p>', MARKER)
