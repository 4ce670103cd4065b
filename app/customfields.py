"""Custom fields of third parties and contacts: definitions, form fields, stored values, display."""
import re
import unicodedata
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional, ValidationError

from app.extensions import db
from app.forms import MultiCheckboxField, as_choices
from app.models import FIELD_ENTITIES, FIELD_TYPES, CustomField

TYPE_LABELS = {
    "text": _l("Text"), "long_text": _l("Long text"), "number": _l("Number"), "money": _l("Amount of money"),
    "date": _l("Date"), "choice": _l("Choice"), "multi_choice": _l("Several choices"), "checkbox": _l("Checkbox"),
    "url": _l("Web address"),
}
ENTITY_LABELS = {"thirdparty": _l("Customers and suppliers"), "contact": _l("Contacts")}
assert set(TYPE_LABELS) == set(FIELD_TYPES) and set(ENTITY_LABELS) == set(FIELD_ENTITIES)


def list_fields(entity: str | None = None) -> list[CustomField]:
    stmt = select(CustomField).order_by(CustomField.entity, CustomField.position, CustomField.label)
    if entity:
        stmt = stmt.where(CustomField.entity == entity)
    return db.session.scalars(stmt).all()


def get_field(field_id: uuid.UUID) -> CustomField | None:
    return db.session.scalar(select(CustomField).where(CustomField.id == field_id))


def make_key(label: str) -> str:
    """A stable key from a label: lower-case ASCII letters, digits and underscores."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")[:40] or "field"


def save_field(field: CustomField | None, *, entity: str, label: str, field_type: str, choices: list[str],
               required: bool, show_in_list: bool) -> CustomField:
    """Create or change a custom field (its key and entity never change once created)."""
    if field is None:
        key, n = make_key(label), 2
        while db.session.scalar(select(CustomField.id).where(CustomField.entity == entity, CustomField.key == key)):
            key, n = f"{make_key(label)[:36]}_{n}", n + 1
        position = db.session.scalar(select(func.coalesce(func.max(CustomField.position), 0)).where(CustomField.entity == entity))
        field = CustomField(entity=entity, key=key, field_type=field_type, position=position + 1)
        db.session.add(field)
    field.label, field.required, field.show_in_list = label.strip(), required, show_in_list
    field.choices = [c.strip() for c in choices if c.strip()] if field.field_type in ("choice", "multi_choice") else []
    db.session.commit()
    return field


def delete_field(field: CustomField) -> None:
    """Remove a field definition; the values stay in the records' history."""
    db.session.delete(field)
    db.session.commit()


def _finite(form, field):
    """Numbers and amounts: no NaN, no infinity, nothing a card could not print (below 10^15)."""
    if field.data is not None and (not field.data.is_finite() or field.data.adjusted() >= 15):
        raise ValidationError(_l("Enter a number between -999,999,999,999,999 and 999,999,999,999,999."))


def _lines(value):
    """Line breaks stored as ``\\n`` (browsers send CRLF: an unchanged text must compare equal)."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def form_field(field: CustomField):
    """The unbound WTForms field for ``field``."""
    required = [InputRequired()] if field.required else [Optional()]
    label = field.label
    match field.field_type:
        case "text":
            return StringField(label, validators=[*required, Length(max=500)], render_kw={"maxlength": 500})
        case "long_text":
            return TextAreaField(label, validators=[*required, Length(max=5000)], filters=[_lines])
        case "number":
            return DecimalField(label, validators=[*required, _finite], places=None, render_kw={"inputmode": "decimal"})
        case "money":
            return DecimalField(label, validators=[*required, _finite], places=2, render_kw={"inputmode": "decimal", "step": "0.01"})
        case "date":
            return DateField(label, validators=required)
        case "choice":
            return SelectField(label, validators=required, choices=as_choices([("", "—"), *((c, c) for c in field.choices)]))
        case "multi_choice":
            return MultiCheckboxField(label, validators=required, choices=as_choices((c, c) for c in field.choices))
        case "checkbox":
            # A required checkbox must be ticked (an agreement, a confirmation).
            return BooleanField(label, validators=[DataRequired(message=_l("Tick this box."))] if field.required else [])
        case "url":
            return StringField(label, validators=[*required, URL(require_tld=True, message=_l("Enter a web address like https://example.com")),
                                                  Length(max=500)], render_kw={"type": "url"})
    raise ValueError(field.field_type)


def to_stored(field: CustomField, value):
    """The JSON value kept for a submitted form value (None when empty)."""
    if value in (None, "", []):
        return None
    if isinstance(value, Decimal):  # amounts always with two decimals, so an unchanged amount compares equal
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if field.field_type == "money" else value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_form(field: CustomField, stored):
    """The form value for a stored JSON value."""
    if stored is None:
        return [] if field.field_type == "multi_choice" else None
    try:
        if field.field_type in ("number", "money"):
            return Decimal(str(stored))
        if field.field_type == "date":
            return date.fromisoformat(stored)
    except (InvalidOperation, ValueError):
        return None
    return stored


def display(field: CustomField, stored) -> str:
    """How a stored value reads on a card or in a list."""
    if stored in (None, "", []):
        return ""
    try:
        match field.field_type:
            case "number":
                return format_decimal(Decimal(str(stored)))
            case "money":
                return format_decimal(Decimal(str(stored)), format="#,##0.00")
            case "date":
                return format_date(date.fromisoformat(stored))
            case "multi_choice":
                return ", ".join(stored)
            case "checkbox":
                return str(_l("Yes")) if stored else str(_l("No"))
    except (ArithmeticError, ValueError, TypeError):  # a stored value that does not fit its type (decimal.Overflow too)
        return str(stored)
    return str(stored)
