"""Agenda: interactions logged on a customer (calls, meetings, e-mails, letters); planning comes next."""
from flask import Blueprint

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
