"""Documents (GED): files on a customer, with versions, previews and download history."""
from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/documents")
