"""Third parties: customers, prospects and suppliers, their list and their card."""
from flask import Blueprint

bp = Blueprint("thirdparties", __name__, url_prefix="/thirdparties")
