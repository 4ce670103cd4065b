"""Forms of the tags, custom fields and numbering settings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.customfields import ENTITY_LABELS, TYPE_LABELS
from app.forms import as_choices, name_field
from app.models import TAG_COLOURS
from app.numbering import pattern_problem

COLOUR_LABELS = {
    "grey": _l("Grey"), "red": _l("Red"), "orange": _l("Orange"), "yellow": _l("Yellow"), "green": _l("Green"),
    "teal": _l("Teal"), "blue": _l("Blue"), "indigo": _l("Indigo"), "purple": _l("Purple"), "pink": _l("Pink"),
}
assert set(COLOUR_LABELS) == set(TAG_COLOURS)


class TagForm(FlaskForm):
    name = name_field(_l("Name"), max_length=60)
    colour = SelectField(_l("Colour"), choices=as_choices(COLOUR_LABELS.items()), default="blue")


class CustomFieldForm(FlaskForm):
    entity = SelectField(_l("For"), choices=as_choices(ENTITY_LABELS.items()))
    label = name_field(_l("Label"), max_length=80)
    field_type = SelectField(_l("Type"), choices=as_choices(TYPE_LABELS.items()))
    choices = TextAreaField(_l("Choices (one per line)"), validators=[Length(max=5000)], render_kw={"rows": 4})
    required = BooleanField(_l("Required"))
    show_in_list = BooleanField(_l("Show as a column in the list"))

    def validate_choices(self, field):
        if self.field_type.data in ("choice", "multi_choice") and not [c for c in (field.data or "").splitlines() if c.strip()]:
            raise ValidationError(_l("Give at least one choice."))

    def choice_list(self) -> list[str]:
        seen, result = set(), []
        for line in (self.choices.data or "").splitlines():
            value = line.strip()[:80]
            if value and value not in seen:
                seen.add(value)
                result.append(value)
        return result


class NumberingForm(FlaskForm):
    pattern = StringField(_l("Customer code pattern"), validators=[DataRequired(), Length(max=60)])

    def validate_pattern(self, field):
        problem = pattern_problem(field.data)
        if problem == "missing_n":
            raise ValidationError(_l("The pattern needs {n} (or {n:04}) where the number goes."))
        if problem == "too_long":
            raise ValidationError(_l("Codes made by this pattern would be longer than 30 characters."))
