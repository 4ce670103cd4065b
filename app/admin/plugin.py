"""What the administration adds: the Administration menu and its pages (team, roles, tags and fields, security and
audit logs, settings, second-factor resets)."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.admin import (  # noqa: F401 (the pages attach to the blueprint when imported)
    audit_routes,
    bp,
    catalog_routes,
    log_routes,
    role_routes,
    routes,
    twofactor_routes,
)


def _link(endpoint, label, right, order):
    return domains.NavLink(f"tenant.admin.{endpoint}", label, right, menu="admin", order=order)


DOMAIN = domains.register(domains.Domain(
    name="admin",
    nav=(_link("members", _l("Team"), "admin.users", 91), _link("roles_index", _l("Roles"), "admin.roles", 92),
         _link("catalog", _l("Tags and fields"), "admin.settings", 93),
         _link("security_log", _l("Security log"), "admin.security_log", 94),
         _link("audit_log", _l("Audit log"), "audit.read", 95), _link("settings", _l("Settings"), "admin.settings", 96)),
    blueprints=((bp, True),),
))
