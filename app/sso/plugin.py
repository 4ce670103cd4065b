"""What single sign-on adds: its buttons on the sign-in, sign-up and account pages, its admin page and menu entry."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.sso import admin_bp, admin_routes, bp, panels, routes  # noqa: F401 (the pages attach when imported)

DOMAIN = domains.register(domains.Domain(
    name="sso",
    nav=(domains.NavLink("tenant.sso_admin.edit", _l("Single sign-on"), "admin.settings", menu="admin", order=97),),
    template_globals={"sso_buttons": panels.sign_in_buttons, "sso_account": panels.account_panel},
    slots={"sign_in": ("sso/_sign_in.html",), "account": ("sso/_account.html",)},
    blueprints=((bp, False), (admin_bp, True)),
))
