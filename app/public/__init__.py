"""Public pages: the landing page, the organisation chooser, the language switch, health."""
from flask import Blueprint

bp = Blueprint("public", __name__)
