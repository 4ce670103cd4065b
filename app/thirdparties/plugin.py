"""What the customers domain adds: its timeline events, its menu entry and its pages."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.thirdparties import bp, routes, search  # noqa: F401 (the pages attach to the blueprint when imported)

DOMAIN = domains.register(domains.Domain(
    name="thirdparties",
    kinds=(
        domains.EventKind("thirdparty_created", _l("Created"), "building-2", "changes"),
        domains.EventKind("thirdparty_updated", _l("Details changed"), "pencil", "changes"),
        domains.EventKind("thirdparty_archived", _l("Archived"), "archive", "changes"),
        domains.EventKind("thirdparty_restored", _l("Restored"), "archive-restore", "changes"),
    ),
    kind_groups=(domains.KindGroup("changes", _l("Changes"), 40),),
    nav=(domains.NavLink("tenant.thirdparties.index", _l("Customers"), "thirdparty.read", order=10),),
    search=(search.PROVIDER,),
    blueprints=((bp, True),),
))
