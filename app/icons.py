"""The one icon set: Lucide's SVG icons (npm ``lucide-static``), the few Storia shows gathered into one sprite,
``static/vendor/icons.svg``, by ``make setup`` (tools/icons.mjs). ``app/icons.json`` names them; a template draws one
with ``icon("phone")`` — an inline ``<svg><use href="…#phone">``: no emoji font needed, it takes the text's colour
and size, and the sprite is one cached file. An unknown name is a programming error and fails loudly."""
import json
from functools import cache
from pathlib import Path

from flask import g, url_for
from markupsafe import Markup, escape

NAMES_FILE = Path(__file__).with_name("icons.json")
SPRITE = "vendor/icons.svg"  # under static/


@cache
def names() -> frozenset[str]:
    return frozenset(json.loads(NAMES_FILE.read_text()))


def _sprite_url() -> str:
    """The sprite's address, built once per request (a timeline page draws an icon on every row)."""
    url = g.get("icon_sprite_url")
    if url is None:
        url = g.icon_sprite_url = url_for("static", filename=SPRITE)
    return url


def icon(name: str, label: str | None = None) -> Markup:
    """The icon ``name`` as inline SVG: hidden from screen readers, unless ``label`` says what it means alone."""
    if name not in names():
        raise ValueError(f"unknown icon {name!r}: add it to app/icons.json")
    href = f"{_sprite_url()}#{name}"
    spoken = f' role="img" aria-label="{escape(label)}"' if label else ' aria-hidden="true"'
    return Markup(f'<svg class="icon icon-{name}"{spoken} focusable="false"><use href="{href}"></use></svg>')
