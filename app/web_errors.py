"""Refusals that say why: an HTTP error carrying the message its page shows (``app.web`` renders it)."""
from werkzeug.exceptions import NotFound


class NotFoundBecause(NotFound):
    """A 404 whose page says ``message`` (translated, never a record's name) instead of the usual text."""

    def __init__(self, message=None):
        super().__init__()
        self.message = message
