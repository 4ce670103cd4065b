"""Opportunities pipeline: the organisation's stages, the board, the list, and each deal from open to won or lost."""
from flask import Blueprint

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")
