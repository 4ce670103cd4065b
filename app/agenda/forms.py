"""The form that logs a call, a meeting, an e-mail or a letter."""
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.agenda.labels import DIRECTION_LABELS, KIND_LABELS, MODE_LABELS
from app.forms import as_choices, local_to_utc, parse_uuid, viewer_zone
from app.models import DIRECTIONS, LOGGED_KINDS, MEETING_MODES, utcnow

MAX_BODY = 20000


class InteractionForm(FlaskForm):
    kind = SelectField(_l("What"), choices=as_choices(KIND_LABELS.items()), default="call")
    direction = SelectField(_l("Who started it"), choices=as_choices(DIRECTION_LABELS.items()), default="outbound")
    when = DateTimeLocalField(_l("When"), format="%Y-%m-%dT%H:%M", validators=[DataRequired(message=_l("Say when it happened."))])
    duration = IntegerField(_l("Duration (minutes)"), validators=[Optional(), NumberRange(min=0, max=24 * 60)],
                            render_kw={"inputmode": "numeric", "min": 0, "max": 24 * 60})
    outcome = StringField(_l("Outcome"), validators=[Length(max=80)], render_kw={"list": "outcomes", "autocomplete": "off"})
    meeting_mode = SelectField(_l("How"), choices=as_choices(MODE_LABELS.items()), default="in_person")
    location = StringField(_l("Place or link"), validators=[Length(max=200)])
    title = StringField(_l("Subject"), validators=[Length(max=200)])
    body = TextAreaField(_l("Summary"), validators=[Length(max=MAX_BODY)], render_kw={"rows": 5})
    # The customer's contacts (offer_contacts); an id that is not one of them is "not found" (404) in the view.
    contact_id = SelectField(_l("With"), choices=[], default="", validate_choice=False)
    idempotency_key = HiddenField()

    def validate_contact_id(self, field):
        if field.data and parse_uuid(field.data) is None:
            raise ValidationError(_l("Not a valid choice."))

    def validate_when(self, field):
        if field.data and local_to_utc(field.data) > utcnow():
            raise ValidationError(_l("This is for what already happened; planning comes with appointments."))

    def values(self) -> dict:
        kind = self.kind.data if self.kind.data in LOGGED_KINDS else "call"
        return {
            "kind": kind, "direction": self.direction.data if self.direction.data in DIRECTIONS else "outbound",
            "starts_at": local_to_utc(self.when.data), "duration_minutes": self.duration.data,
            "outcome": (self.outcome.data or "").strip(), "title": (self.title.data or "").strip(),
            "body": (self.body.data or "").strip(),
            "meeting_mode": self.meeting_mode.data if kind == "meeting" and self.meeting_mode.data in MEETING_MODES else None,
            "location": (self.location.data or "").strip() if kind == "meeting" else "",
        }


def interaction_form(contacts, contact_id=None, kind: str = "call") -> InteractionForm:
    """A blank form: now in the viewer's zone, the person preselected, a fresh idempotency key."""
    form = InteractionForm(formdata=None, kind=kind if kind in LOGGED_KINDS else "call", contact_id=str(contact_id or ""),
                           when=datetime.now(viewer_zone()).replace(second=0, microsecond=0, tzinfo=None),
                           idempotency_key=uuid.uuid4().hex)
    offer_contacts(form, contacts)
    return form


def offer_contacts(form: InteractionForm, contacts) -> None:
    form.contact_id.choices = as_choices([("", _l("No one in particular"))] + [(c.id, c.full_name) for c in contacts])
