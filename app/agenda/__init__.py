"""Agenda: interactions logged on a customer (calls, meetings, e-mails, letters), tasks and appointments planned
on it, the agenda views and the calendar feed."""
from flask import Blueprint

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
