"""The organisation's home page."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)
