"""The organisation's home page."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.dashboard import bp, routes  # noqa: F401 (the page attaches to the blueprint when imported)

DOMAIN = domains.register(domains.Domain(
    name="dashboard",
    nav=(domains.NavLink("tenant.dashboard.index", _l("Home"), None, order=0),),
    blueprints=((bp, True),),
))
