"""Form fields and validators shared by several areas."""
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.tenancy import slug_problem

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "it": "Italiano"}
TIMEZONES = sorted(available_timezones() - {"localtime", "Factory"})

SLUG_MESSAGES = {
    "format": _l("Use 3 to 40 lower-case letters, digits and dashes, not starting or ending with a dash."),
    "reserved": _l("This address is reserved; choose another."),
    "taken": _l("This address is already taken; choose another."),
}


def as_choices(pairs) -> list[SelectChoice]:
    """WTForms choices from ``(value, label)`` pairs (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def email_field(label=None) -> StringField:
    return StringField(label or _l("E-mail"), validators=[
        DataRequired(), Length(max=254), Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
    ], render_kw={"type": "email", "autocomplete": "email", "maxlength": 254})


def name_field(label, max_length=120) -> StringField:
    return StringField(label, validators=[DataRequired(), Length(max=max_length)],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v],
                       render_kw={"maxlength": max_length})


def language_field(label=None) -> SelectField:
    return SelectField(label or _l("Language"), choices=as_choices(LANGUAGE_NAMES.items()))


def timezone_field(label=None) -> SelectField:
    return SelectField(label or _l("Time zone"), choices=as_choices((tz, tz) for tz in TIMEZONES))


def validate_new_slug(form, field) -> None:
    """WTForms validator: the slug is well formed, not reserved and free."""
    field.data = (field.data or "").strip().lower()
    problem = slug_problem(field.data)
    if problem:
        raise ValidationError(SLUG_MESSAGES[problem])


def supported_language(value: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return value if value in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
