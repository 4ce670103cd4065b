"""The customer timeline: recording events, reading them page by page, notes, live updates."""
from flask import Blueprint

bp = Blueprint("timeline", __name__, url_prefix="/timeline")
