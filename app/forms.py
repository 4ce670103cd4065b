"""Form fields, validators and URL-argument parsers shared by several areas."""
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
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


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from a URL argument or form field; None when absent or malformed."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def viewer_zone() -> ZoneInfo:
    """The viewer's time zone as a ``zoneinfo`` zone.

    Flask-Babel hands out pytz zones, which must not be given to ``datetime(tzinfo=…)``: they then
    apply the zone's first historical offset (Paris: +00:09), not the one of that date.
    """
    return ZoneInfo(str(get_timezone()))


def local_to_utc(moment: datetime) -> datetime:
    """A wall-clock time typed by the viewer (naive) as the UTC instant it means in their zone."""
    return moment.replace(tzinfo=viewer_zone()).astimezone(UTC)


def day_start(value: str | None, plus_days: int = 0) -> datetime | None:
    """The UTC instant a local calendar day (``YYYY-MM-DD``) starts; None for an empty or malformed date."""
    try:
        day = date.fromisoformat(value) + timedelta(days=plus_days) if value else None
        return local_to_utc(datetime.combine(day, time())) if day else None
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01 or 9999-12-31 pushed past the calendar
        return None


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


class SavedViewForm(FlaskForm):
    """Name a list's current filters to find them again (app/saved_views.py)."""

    name = StringField(_l("Name of this view"), validators=[DataRequired(message=_l("Give the view a name.")), Length(max=60)])
    query = HiddenField()
