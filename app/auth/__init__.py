"""Accounts: sign-up, sign-in, sign-out, password reset, invitations, the user's own settings."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
