"""One icon set (issue 14): Lucide's SVG icons from npm, gathered into one sprite by `make setup`, drawn by
``icon(name)`` — never an emoji or a dingbat a phone without the font shows as an empty box."""
import json
import re
from pathlib import Path

import pytest

from app import domains
from app.icons import NAMES_FILE, icon
from app.timeline.display import kind_icon
from tests.customers import make_thirdparty, owner, tenant  # noqa: F401 (fixtures)
from tests.helpers import icon_markup

ROOT = Path(__file__).resolve().parent.parent
SPRITE = ROOT / "static" / "vendor" / "icons.svg"
LUCIDE = ROOT / "node_modules" / "lucide-static" / "icons"
# Pictographs, dingbats, geometric shapes and emoji: what an icon drawn as text would be. Arrows (←, →) and
# punctuation (·, —) are text every font has, and stay.
PICTOGRAPHS = re.compile("[\u2300-\u23ff\u2460-\u27bf\u2900-\u2bff\u2e80-\u2eff\U0001f000-\U0001faff\ufe0f]")
NOT_PAGES = {"app/agenda/ical.py"}  # a task's "✓" in a calendar feed is text for the person's calendar app


def test_the_sprite_holds_every_named_icon_from_lucide():
    names = json.loads(NAMES_FILE.read_text())
    assert names and len(names) == len(set(names))
    sprite = SPRITE.read_text()
    assert "lucide-static" in sprite  # the licence line
    for name in names:
        assert (LUCIDE / f"{name}.svg").is_file(), f"{name} is not a Lucide icon"
        assert f'<symbol id="{name}" viewBox="0 0 24 24"' in sprite, f"{name} missing from the sprite (make setup)"


def test_the_sprite_is_served_as_an_svg_picture(client):
    response = client.get("/static/vendor/icons.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b'<symbol id="phone"' in response.get_data()
    response.close()


def test_every_timeline_kind_has_a_named_icon(app):
    with app.test_request_context():
        for key, kind in domains.kinds().items():
            assert f'href="/static/vendor/icons.svg#{kind.icon}"' in kind_icon(key), key
        assert "#dot" in kind_icon("a kind nobody registered")
        with pytest.raises(ValueError, match="unknown icon"):
            icon("no-such-icon")
        assert icon("pin", "Pinned <b>") == ('<svg class="icon icon-pin" role="img" aria-label="Pinned &lt;b&gt;" '
                                            'focusable="false"><use href="/static/vendor/icons.svg#pin"></use></svg>')


def test_no_template_or_label_draws_an_icon_as_text():
    found = []
    for path in [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("app").rglob("*.py")]:
        if str(path.relative_to(ROOT)) in NOT_PAGES:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if PICTOGRAPHS.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert found == []


def test_the_card_draws_its_icons_from_the_sprite(app, tenant, owner):  # noqa: F811 (fixtures)
    customer = make_thirdparty(app, tenant, "Filati Rossi", phones=[["Office", "+39 015 555 0101"]])
    page = owner.get(f"/{tenant.slug}/thirdparties/{customer.id}").get_data(as_text=True)
    assert f'{icon_markup("phone")} +39 015 555 0101</a>' in page
    assert icon_markup("building-2") in page  # the "Created" event on the timeline
    assert not PICTOGRAPHS.search(page)
