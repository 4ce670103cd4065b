"""What the pipeline adds: the timeline events of deals, the card's box of open opportunities, its menu entry, the
macros and the pages (it uses the rights of quotes)."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.pipeline import bp, deal_routes, routes, stage_routes  # noqa: F401 (the pages attach to the blueprint)
from app.pipeline.labels import EVENT_ICONS, EVENT_LABELS
from app.pipeline.services import card_box, get_opportunity, open_opportunities, win_for_signed_quote


def _panel(viewer, tp) -> dict | None:
    box = card_box(viewer, tp.id)
    return box if box["pipeline_open"] is not None else None


DOMAIN = domains.register(domains.Domain(
    name="pipeline",
    kinds=tuple(domains.EventKind(key, label, EVENT_ICONS.get(key, "dot"), "pipeline") for key, label in EVENT_LABELS.items()),
    kind_groups=(domains.KindGroup("pipeline", _l("Opportunities"), 80),),
    panels=(domains.Panel("pipeline", _l("Opportunities"), "pipeline/_panel.html", _panel, order=20,
                          count=lambda data: len(data["pipeline_open"])),),
    nav=(domains.NavLink("tenant.pipeline.index", _l("Pipeline"), "quote.read", menu="sales", order=40),),
    macros={"pipeline": "pipeline/_macros.html"},
    hooks={"opportunity": lambda viewer, opportunity_id: get_opportunity(viewer, opportunity_id) if opportunity_id else None,
           "open_opportunities": open_opportunities, "quote_signed": win_for_signed_quote},
    blueprints=((bp, True),),
))
