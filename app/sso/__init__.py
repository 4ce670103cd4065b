"""Single sign-on with OpenID Connect: Google, Microsoft and each organisation's own provider.

``bp`` serves ``/auth/sso/...`` (find an organisation's provider, start, the provider's answer, the e-mailed
confirmation, link and unlink); ``admin_bp`` is the organisation's settings page, a child of the tenant blueprint.
See docs/architecture.md, "Single sign-on".
"""
from flask import Blueprint

bp = Blueprint("sso", __name__, url_prefix="/auth/sso")
admin_bp = Blueprint("sso_admin", __name__, url_prefix="/admin/sso")

