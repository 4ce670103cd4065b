"""How the pipeline reads: statuses, the default stages, and the timeline events of a deal."""
from flask_babel import lazy_gettext as _l

STATUS_LABELS = {"open": _l("Open"), "won": _l("Won"), "lost": _l("Lost")}

# The stages an organisation starts with (name, default probability in per cent), named in its language when made.
DEFAULT_STAGES = ((_l("Prospect"), 10), (_l("Qualified"), 25), (_l("Proposal"), 50), (_l("Negotiation"), 75))

# Timeline events of an opportunity, seen with the right that reads quotes.
EVENT_LABELS = {
    "opportunity_created": _l("Opportunity opened"),
    "opportunity_moved": _l("Opportunity moved"),
    "opportunity_won": _l("Opportunity won"),
    "opportunity_lost": _l("Opportunity lost"),
    "opportunity_reopened": _l("Opportunity reopened"),
}
EVENT_ICONS = {"opportunity_created": "target", "opportunity_moved": "arrow-right", "opportunity_won": "trophy",
               "opportunity_lost": "circle-x", "opportunity_reopened": "rotate-ccw"}
