"""What sales adds: the rights of quotes, orders, invoices, payments and contracts, their timeline events, the card's
sales box, the Sales menu, the macros and the pages."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import domains
from app.database import json_rows
from app.models import SALES_KINDS
from app.sales import (  # noqa: F401 (the pages attach to the blueprint when imported)
    bp,
    chain_routes,
    contract_routes,
    document_routes,
    document_url,
    metrics_routes,
    order_routes,
    payment_routes,
    product_routes,
    quote_routes,
)
from app.sales.labels import EVENT_ICONS, EVENT_LABELS, KIND_LABELS
from app.sales.queries import card_box, card_kinds, get_document, readable, summary_query
from app.sales.search import PROVIDERS as SEARCH_PROVIDERS


def _facts(viewer, tp) -> dict | None:
    """The customer's figures, read with the card's other facts (``Panel.facts``); None without a right to any kind."""
    return {"summary": json_rows(summary_query(tp.id), grouped=True)} if card_kinds(viewer) else None


def _panel(viewer, tp, facts: dict) -> dict | None:
    return card_box(viewer, tp.id, summary_rows=facts["summary"] or [])


def _thread_name(head: dict) -> str | None:
    """A sales thread reads with its first document's kind, in the reader's language: "Quote PR2612-0001"."""
    kind = KIND_LABELS.get(head.get("kind"))
    return f"{kind} {head.get('label') or ''}".strip() if kind is not None else None


def _document_subject(viewer, about_type: str, about_id):
    """A quote, order, invoice or contract a document is attached to (the signed copy), if the viewer may read it."""
    if about_type != "sales_document" or about_id is None:
        return None
    doc = get_document(viewer, about_id, SALES_KINDS)
    if not readable(viewer, doc):
        return None
    label = " · ".join(p for p in (f"{KIND_LABELS[doc.kind]} {doc.number or _('Draft')}", doc.title) if p)
    return domains.Subject(doc.id, doc.thirdparty_id, label, document_url(doc))


def _link(endpoint, label, right, order):
    return domains.NavLink(f"tenant.sales.{endpoint}", label, right, menu="sales", order=order)


DOMAIN = domains.register(domains.Domain(
    name="sales",
    areas={"quote": _l("Quotes"), "order": _l("Orders"), "invoice": _l("Invoices"), "payment": _l("Payments"),
           "contract": _l("Contracts"), "report": _l("Reports")},
    rights={
        "quote.read": _l("See quotes"),
        "quote.create": _l("Create and edit quotes"),
        "quote.validate": _l("Validate and send quotes"),
        "order.read": _l("See orders"),
        "order.create": _l("Create orders and shipments"),
        "invoice.read": _l("See invoices"),
        "invoice.create": _l("Create draft invoices"),
        "invoice.validate": _l("Validate invoices and credit notes"),
        "payment.read": _l("See payments"),
        "payment.create": _l("Record payments"),
        "contract.read": _l("See contracts"),
        "contract.create": _l("Create and renew contracts"),
        "report.read": _l("See reports and dashboards"),
    },
    role_rights={
        "sales": ("quote.read", "quote.create", "quote.validate", "order.read", "order.create", "invoice.read",
                  "payment.read", "contract.read", "contract.create", "report.read"),
        "support": ("order.read", "contract.read"),
        "accounting": ("quote.read", "order.read", "invoice.read", "invoice.create", "invoice.validate", "payment.read",
                       "payment.create", "contract.read", "contract.create", "report.read"),
    },
    kinds=tuple(domains.EventKind(key, label, EVENT_ICONS.get(key, "dot"), "sales") for key, label in EVENT_LABELS.items()),
    kind_groups=(domains.KindGroup("sales", _l("Quotes, invoices and payments"), 70),),
    panels=(domains.Panel("sales", _l("Sales"), "sales/_panel.html", _panel, order=30, facts=_facts),),
    nav=(_link("quotes_index", _l("Quotes"), "quote.read", 41), _link("orders_index", _l("Orders"), "order.read", 42),
         _link("invoices_index", _l("Invoices"), "invoice.read", 43),
         _link("contracts_index", _l("Contracts"), "contract.read", 44),
         _link("product_index", _l("Products and services"), "quote.read", 45),
         _link("sales_metrics", _l("Sales cycle"), "report.read", 46)),
    macros={"sales": "sales/_macros.html"},
    template_globals={"document_url": document_url},
    hooks={"document_subject": _document_subject, "thread_name": _thread_name},
    search=SEARCH_PROVIDERS,
    blueprints=((bp, True),),
))
