"""The global search's pages: what the top bar's box shows as one types, and the full results page with a filter per
kind and pages. Core: the kinds come from the domains' providers (``app.search``), never from an import of theirs.
See docs/architecture.md, "Global search"."""
from flask import Blueprint, g, request

from app import search
from app.htmx import render_page
from app.pagination import page_number

bp = Blueprint("search", __name__, url_prefix="/search")

MAX_ARGUMENT = 1000  # longer text in the URL is cut (search.MAX_QUERY is what is looked for)


def _text() -> str:
    """The query typed: any text, cut to a bound; characters a database refuses (NUL) and controls become spaces."""
    text = request.args.get("q", "")[:MAX_ARGUMENT]
    return "".join(" " if (ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF) else c for c in text)


@bp.get("/suggest")
def suggest():
    """The few records of each kind the box shows under itself while one types (an htmx fragment)."""
    results = search.suggest(g.viewer, _text())
    return render_page("search/_suggest.html", results=results)


@bp.get("/")
def index():
    """Every kind's best results and how many each found, or one kind's results page by page (``?kind=``)."""
    text = _text()
    kind = request.args.get("kind", "")[:40]
    page = page_number(request.args)
    results, filters = search.find(g.viewer, text, kind=kind or None, page=page)
    chosen = kind if any(provider.key == kind for provider, _total, _more in filters) else ""
    return render_page("search/index.html", "results", results=results, filters=filters, kind=chosen, page=page)
