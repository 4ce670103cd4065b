"""The third-party form: identity, types, addresses, phones, e-mails, tags, reps and custom fields."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, Email, Length, Optional, ValidationError

from app import customfields
from app.forms import MultiCheckboxField, as_choices, name_field

COUNTRIES = ("FR", "IT", "BE", "CH", "LU", "MC", "ES", "DE", "GB", "NL", "PT", "AT", "US", "CA")


def _strip(value):
    """Trim, and store line breaks as ``\\n`` (browsers send CRLF: an unchanged text must compare equal)."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


class AddressForm(Form):
    label = StringField(_l("Label"), filters=[_strip], validators=[Length(max=40)],
                        render_kw={"placeholder": _l("Head office")})
    street = TextAreaField(_l("Street"), filters=[_strip], validators=[Length(max=500)], render_kw={"rows": 2})
    postcode = StringField(_l("Postcode"), filters=[_strip], validators=[Length(max=20)])
    city = StringField(_l("City"), filters=[_strip], validators=[Length(max=100)])
    country = SelectField(_l("Country"), choices=as_choices([("", "—"), *((c, c) for c in COUNTRIES)]), validate_choice=False,
                          filters=[lambda v: (v or "").upper()[:2]])

    def as_row(self) -> list[str] | None:
        row = [self.label.data or "", self.street.data or "", self.postcode.data or "", self.city.data or "", self.country.data or ""]
        return row if any(row[1:4]) else None


class PhoneForm(Form):
    label = StringField(_l("Label"), filters=[_strip], validators=[Length(max=40)], render_kw={"placeholder": _l("Office")})
    value = StringField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40)],
                        render_kw={"type": "tel", "inputmode": "tel"})

    def validate_value(self, field):
        if field.data and not any(ch.isdigit() for ch in field.data):
            raise ValidationError(_l("Enter a phone number."))

    def as_row(self) -> list[str] | None:
        return [self.label.data or "", self.value.data] if self.value.data else None


class EmailForm(Form):
    label = StringField(_l("Label"), filters=[_strip], validators=[Length(max=40)], render_kw={"placeholder": _l("Accounts")})
    value = StringField(_l("E-mail"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address."), check_deliverability=False)],
        render_kw={"type": "email"})

    def as_row(self) -> list[str] | None:
        return [self.label.data or "", self.value.data.lower()] if self.value.data else None


class ThirdPartyForm(FlaskForm):
    name = name_field(_l("Name"), max_length=200)
    is_customer = BooleanField(_l("Customer"))
    is_prospect = BooleanField(_l("Prospect"))
    is_supplier = BooleanField(_l("Supplier"))
    vat_number = StringField(_l("VAT number"), filters=[_strip], validators=[Length(max=32)])
    website = StringField(_l("Website"), filters=[_strip], validators=[
        Optional(), Length(max=255), URL(require_tld=True, message=_l("Enter a web address like https://example.com"))],
        render_kw={"type": "url", "placeholder": "https://"})
    description = TextAreaField(_l("Notes"), filters=[_strip], validators=[Length(max=10000)], render_kw={"rows": 3})
    addresses = FieldList(FormField(AddressForm), min_entries=1, max_entries=20)
    phones = FieldList(FormField(PhoneForm), min_entries=1, max_entries=20)
    emails = FieldList(FormField(EmailForm), min_entries=1, max_entries=20)
    tag_ids = MultiCheckboxField(_l("Tags"), choices=[])
    rep_ids = MultiCheckboxField(_l("Sales representatives"), choices=[])
    version = HiddenField()
    base = HiddenField()

    custom_fields: list = []

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.is_customer.data or self.is_prospect.data or self.is_supplier.data):
            self.is_customer.errors = [*self.is_customer.errors, _l("Choose at least one: customer, prospect or supplier.")]
            ok = False
        return ok

    def values(self) -> dict:
        """The submitted values in the shape the services and snapshots use."""
        return {
            "name": self.name.data, "is_customer": self.is_customer.data, "is_prospect": self.is_prospect.data,
            "is_supplier": self.is_supplier.data, "vat_number": (self.vat_number.data or "").upper().replace(" ", ""),
            "website": self.website.data or "", "description": self.description.data or "",
            "custom": custom_values(self),
            "addresses": [r for r in (e.form.as_row() for e in self.addresses) if r],
            "phones": [r for r in (e.form.as_row() for e in self.phones) if r],
            "emails": [r for r in (e.form.as_row() for e in self.emails) if r],
            "tag_ids": sorted(self.tag_ids.data or []), "rep_ids": sorted(self.rep_ids.data or []),
        }


def custom_values(form) -> dict:
    """The custom-field values of a submitted form, as stored (empty ones left out)."""
    values = {}
    for field in form.custom_fields:
        stored = customfields.to_stored(field, form[f"cf_{field.key}"].data)
        if stored is not None:
            values[field.key] = stored
    return values


def with_custom_fields(base_class, fields):
    """A subclass of ``base_class`` with one ``cf_<key>`` field per custom field."""
    attrs = {f"cf_{f.key}": customfields.form_field(f) for f in fields}
    attrs["custom_fields"] = list(fields)
    return type(base_class.__name__, (base_class,), attrs)


def fill_custom_fields(form, stored: dict) -> None:
    for field in form.custom_fields:
        form[f"cf_{field.key}"].data = customfields.to_form(field, (stored or {}).get(field.key))


class BulkForm(FlaskForm):
    ids = MultiCheckboxField(choices=[], validate_choice=False)
    action = SelectField(choices=as_choices([("tag", "tag"), ("assign", "assign")]))
    tag_id = SelectField(_l("Tag"), choices=[], validate_choice=False)
    rep_id = SelectField(_l("Sales representative"), choices=[], validate_choice=False)


def form_data(values: dict) -> dict:
    """Form data (for ``Form(data=...)``) from a snapshot of a third party."""
    return {
        **{k: values[k] for k in ("name", "is_customer", "is_prospect", "is_supplier", "vat_number", "website", "description")},
        "addresses": [dict(zip(("label", "street", "postcode", "city", "country"), a, strict=True)) for a in values["addresses"]],
        "phones": [{"label": label, "value": value} for label, value in values["phones"]],
        "emails": [{"label": label, "value": value} for label, value in values["emails"]],
        "tag_ids": values["tag_ids"], "rep_ids": values["rep_ids"],
    }

