"""The contact form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.forms import LANGUAGE_NAMES, as_choices, name_field
from app.thirdparties.forms import EmailForm, PhoneForm, custom_values

CHANNEL_LABELS = {"any": _l("No preference"), "email": _l("E-mail"), "phone": _l("Phone"), "sms": _l("Text message"),
                  "post": _l("Post")}


def _strip(value):
    """Trim, and store line breaks as ``\\n`` (browsers send CRLF: an unchanged text must compare equal)."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


class ContactForm(FlaskForm):
    first_name = StringField(_l("First name"), filters=[_strip], validators=[Length(max=100)])
    last_name = name_field(_l("Last name"), max_length=100)
    job_title = StringField(_l("Job title"), filters=[_strip], validators=[Length(max=120)])
    preferred_language = SelectField(_l("Preferred language"), default="",
                                     choices=as_choices([("", "—"), *LANGUAGE_NAMES.items()]))
    preferred_channel = SelectField(_l("Preferred channel"), default="any", choices=as_choices(CHANNEL_LABELS.items()))
    consent_email = BooleanField(_l("Agrees to receive e-mails (newsletters, offers)"))
    consent_phone = BooleanField(_l("Agrees to be called about offers"))
    description = TextAreaField(_l("Notes"), filters=[_strip], validators=[Optional(), Length(max=10000)], render_kw={"rows": 3})
    phones = FieldList(FormField(PhoneForm), min_entries=1, max_entries=20)
    emails = FieldList(FormField(EmailForm), min_entries=1, max_entries=20)
    version = HiddenField()
    base = HiddenField()

    custom_fields: list = []

    def values(self) -> dict:
        return {
            "first_name": self.first_name.data or "", "last_name": self.last_name.data, "job_title": self.job_title.data or "",
            "preferred_language": self.preferred_language.data or "", "preferred_channel": self.preferred_channel.data,
            "consent_email": self.consent_email.data, "consent_phone": self.consent_phone.data,
            "description": self.description.data or "", "custom": custom_values(self),
            "phones": [r for r in (e.form.as_row() for e in self.phones) if r],
            "emails": [r for r in (e.form.as_row() for e in self.emails) if r],
        }


def form_data(values: dict) -> dict:
    return {
        **{k: v for k, v in values.items() if k not in ("phones", "emails", "custom")},
        "phones": [{"label": label, "value": value} for label, value in values["phones"]],
        "emails": [{"label": label, "value": value} for label, value in values["emails"]],
    }


class MoveForm(FlaskForm):
    thirdparty_id = HiddenField()
