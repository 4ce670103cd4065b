"""Single sign-on with OpenID Connect: Google, Microsoft and each organisation's own provider.

``bp`` serves ``/auth/sso/...`` (find an organisation's provider, start, the provider's answer, the e-mailed
confirmation, link and unlink); ``admin_bp`` is the organisation's settings page, a child of the tenant blueprint.
See docs/architecture.md, "Single sign-on".
"""
from flask import Blueprint

bp = Blueprint("sso", __name__, url_prefix="/auth/sso")
admin_bp = Blueprint("sso_admin", __name__, url_prefix="/admin/sso")


def init_app(app) -> None:
    """Template helpers of the sign-in, sign-up and account pages."""
    from app.sso import panels

    app.jinja_env.globals.update(sso_buttons=panels.sign_in_buttons, sso_account=panels.account_panel)
