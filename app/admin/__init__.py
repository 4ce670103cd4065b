"""Administration of an organisation: team, invitations, roles, groups, security log, settings."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
