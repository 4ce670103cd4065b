"""Forms of the pipeline: an opportunity, its move to another stage, winning or losing it, a stage."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import as_choices, parse_uuid
from app.sales.forms import amount_field

EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def _plausible(form, field):
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=EARLIEST.year, last=LATEST.year))


def _probability(label, required=False):
    return IntegerField(label, validators=[InputRequired() if required else Optional(), NumberRange(min=0, max=100)],
                        render_kw={"inputmode": "numeric", "min": 0, "max": 100})


class OpportunityForm(FlaskForm):
    title = StringField(_l("What the deal is"), validators=[DataRequired(), Length(max=200)],
                        render_kw={"maxlength": 200, "placeholder": _l("New website, yearly maintenance…")})
    # The customer's contacts; an id that is not one of them is "not found" (404) in the view.
    contact_id = SelectField(_l("Contact"), choices=[], default="", validate_choice=False)
    amount = amount_field(_l("Amount"), low=0)
    stage_id = SelectField(_l("Stage"), choices=[])
    probability = _probability(_l("Probability (%)"))
    expected_close_on = DateField(_l("Expected close"), validators=[Optional(), _plausible])
    owner_id = SelectField(_l("Owner"), choices=[])
    idempotency_key = HiddenField()
    version = HiddenField()  # an edit: the version and the values it showed (app.editing)
    base = HiddenField()

    def validate_contact_id(self, field):
        if field.data and parse_uuid(field.data) is None:
            raise ValidationError(_l("Choose one of the contacts."))

    def values(self) -> dict:
        """What the service takes (the contact is resolved by the view, which may answer 404)."""
        return {"title": self.title.data.strip(), "amount": self.amount.data, "stage_id": parse_uuid(self.stage_id.data),
                "probability": self.probability.data, "expected_close_on": self.expected_close_on.data,
                "owner_id": parse_uuid(self.owner_id.data)}


def opportunity_form(contacts, stages, members, **kw) -> OpportunityForm:
    """The form with its choices: the customer's contacts, the stages, the active members (and the current owner)."""
    form = OpportunityForm(**kw)
    form.contact_id.choices = as_choices([("", "—"), *((str(c.id), c.full_name) for c in contacts)])
    form.stage_id.choices = as_choices((str(s.id), s.name) for s in stages)
    form.owner_id.choices = as_choices((str(m.user_id), m.user.name) for m in members)
    return form


class MoveForm(FlaskForm):
    stage_id = SelectField(_l("Stage"), choices=[])


def move_form(stages, **kw) -> MoveForm:
    form = MoveForm(**kw)
    form.stage_id.choices = as_choices((str(s.id), s.name) for s in stages)
    return form


class CloseForm(FlaskForm):
    """Won or lost, and why (a lost opportunity needs the reason: it is what the team learns from)."""

    reason = StringField(_l("Why"), validators=[Length(max=200)], render_kw={"maxlength": 200})

    def __init__(self, outcome: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome = outcome

    def validate_reason(self, field):
        if self.outcome == "lost" and not (field.data or "").strip():
            raise ValidationError(_l("Say why it was lost."))


class StageForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)], render_kw={"maxlength": 60})
    probability = _probability(_l("Probability (%)"), required=True)
