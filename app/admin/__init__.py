"""Administration of an organisation: team, invitations, roles, groups, security log, settings."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import log_routes, role_routes, routes  # noqa: E402,F401
