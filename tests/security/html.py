"""Reading responses as a browser would: elements a payload could have produced, and leaked internals."""
import html
import re
from html.parser import HTMLParser
from pathlib import Path

from markupsafe import escape

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Elements the form widgets (WTForms) write for our templates.
WIDGET_TAGS = frozenset({"input", "textarea", "select", "option", "label", "ul", "li"})
# Elements the icon helper (app/icons.py, ``icon("phone")``) writes.
ICON_TAGS = frozenset({"svg", "use"})
# Every element name our templates and their widgets write; any other element in a page came from data.
TEMPLATE_TAGS = WIDGET_TAGS | ICON_TAGS | frozenset(
    tag.lower() for path in TEMPLATES.rglob("*.html") for tag in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", path.read_text())
)
# Every (element, htmx attribute) pair our templates write: htmx would act on any other one.
TEMPLATE_HX = frozenset(
    (match.group(1).lower(), name)
    for path in TEMPLATES.rglob("*.html")
    for match in re.finditer(r"<([a-zA-Z][a-zA-Z0-9-]*)\b((?:[^<>]|\{[{%].*?[%}]\})*)>", path.read_text(), re.S)
    for name in re.findall(r"\b((?:data-)?hx-[\w:-]+)\s*=", match.group(2))
)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background", "srcdoc",
                  "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"}
# Where our templates put user text inside an attribute (escaped): form values, confirm prompts, labels.
TEXT_ATTRIBUTES = {"value", "hx-confirm", "aria-label", "title", "placeholder"}
# Links whose scheme the template writes before the user's text (a phone number, an e-mail address).
FIXED_SCHEMES = ("tel:", "mailto:")
# A picture the server draws itself (the two-factor QR code): a PNG shown by <img> runs nothing.
DRAWN_PICTURE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/]+=*")
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', ".py\", line", "site-packages", "/work/", "sqlalchemy",
                "psycopg", "sqlite3", "OperationalError", "IntegrityError", "DataError", "ProgrammingError",
                "UndefinedError", "jinja2.", "werkzeug.", "SELECT ", "INSERT INTO", "DELETE FROM", "UPDATE ",
                "ORDER BY", "Werkzeug Debugger")


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, [(name, value)])
        self.script_text = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def _scheme(value: str) -> str:
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


def injected_markup(body: str, marker: re.Pattern) -> list[str]:
    """Elements and attributes of ``body`` that user data produced (empty when all data was escaped).

    Payloads carry ``marker``; templates never write inline handlers, inline scripts or foreign tags.
    """
    parser = _Elements()
    parser.feed(body)
    parser.close()
    problems = [f"inline script {text[:60]!r}" for text in parser.script_text]
    for tag, attrs in parser.elements:
        if tag not in TEMPLATE_TAGS:
            problems.append(f"<{tag}> is not an element of our templates")
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            problems.append(f"<script> without a same-origin source: {attrs}")
        for name, value in attrs:
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                problems.append(f"<{tag} {name}=...> event handler")
            elif name.startswith(("hx-", "data-hx-")) and (tag, name) not in TEMPLATE_HX:
                problems.append(f"<{tag} {name}={value!r}> htmx attribute our templates never write")
            drawn = tag == "img" and name == "src" and DRAWN_PICTURE.fullmatch(value or "")
            if name in URL_ATTRIBUTES and _scheme(value) in ("javascript", "data", "vbscript") and not drawn:
                problems.append(f"<{tag} {name}={value!r}> script URL")
            if marker.search(name) or marker.search(tag):
                problems.append(f"<{tag} {name}> made from data")
            fixed_link = name == "href" and (value or "").startswith(FIXED_SCHEMES)
            if value and marker.search(value) and name not in TEXT_ATTRIBUTES and not fixed_link:
                problems.append(f"<{tag} {name}={value!r}> carries data outside a text attribute")
    return problems


def leaked_internals(body: str, echoed=()) -> list[str]:
    """Traces of tracebacks, SQL or file paths in ``body`` (values the client sent are removed first)."""
    for value in sorted((str(v) for v in echoed if v), key=len, reverse=True):
        body = body.replace(str(escape(value)), "").replace(value, "")
    return [marker for marker in LEAK_MARKERS if marker in body]


class _Controls(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.controls = {}  # name → attributes, a textarea's text as its "value"
        self.ids = set()
        self._textarea = self._last = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"])
        if "field-error" in (found.get("class") or "").split() and self._last is not None:
            self._last["error_follows"] = True  # a message right after the control, before the next one
        if tag in ("input", "select", "textarea") and found.get("name"):
            self._last = {**found, "tag": tag}
            if self.controls.get(found["name"], {}).get("aria-invalid") != "true":  # a name in several forms: the marked one
                self.controls[found["name"]] = self._last
            if tag == "textarea":
                self._textarea = self._last
                self._textarea["value"] = ""

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data


def form_controls(body: str) -> tuple[dict, set]:
    """The named form controls of ``body`` (name → attributes, ``tag``, ``value`` for a textarea's text, and
    ``error_follows`` when a ``field-error`` message comes right after it) and every element id (to find the message
    an ``aria-describedby`` names)."""
    parser = _Controls()
    parser.feed(body)
    parser.close()
    return parser.controls, parser.ids
