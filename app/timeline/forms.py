"""The note composer and the note editor."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.idempotency import new_key
from app.timeline.notes import MAX_LENGTH


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("Write something first.")), Length(max=MAX_LENGTH)],
                         render_kw={"rows": 3, "placeholder": _l("Write a note: a call, a decision, a preference…")})
    private = BooleanField(_l("Private (only me)"))
    pinned = BooleanField(_l("Pin on top"))
    contact_id = HiddenField()
    idempotency_key = HiddenField()


class NoteEditForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("Write something first.")), Length(max=MAX_LENGTH)],
                         render_kw={"rows": 4})
    version = HiddenField()
    base_body = HiddenField()


def composer_form(contact_id=None) -> NoteForm:
    """A blank composer with a fresh idempotency key (a double tap posts the same key twice)."""
    return NoteForm(formdata=None, contact_id=str(contact_id or ""), idempotency_key=new_key())
