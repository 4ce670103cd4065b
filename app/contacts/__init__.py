"""Contacts: the people of a third party."""
from flask import Blueprint

bp = Blueprint("contacts", __name__, url_prefix="/contacts")
