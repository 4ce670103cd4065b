"""Forms of the administration pages."""
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import Length, NumberRange, Optional

from app.admin.logo import MAX_BYTES as MAX_LOGO_BYTES
from app.admin.logo import LogoRefused, clean_logo
from app.agenda.labels import AUTOMATIC_KINDS
from app.agenda.reminders import LEAD_LABELS
from app.agenda.services import MAX_OUTCOMES, OUTCOME_MAX
from app.documents.services import FOLDER_MAX, MAX_DEFAULT_FOLDERS, clean_folder
from app.forms import MultiCheckboxField, as_choices, email_field, language_field, name_field, timezone_field
from app.pagination import bounded_int
from app.permissions import RIGHTS
from app.timeline.display import kind_label

# Currencies an organisation may invoice in (ISO 4217); amounts show in each person's number format.
CURRENCIES = ("EUR", "CHF", "GBP", "USD", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "BGN", "MAD",
              "TND", "XOF")


class InviteForm(FlaskForm):
    email = email_field()
    role_id = SelectField(_l("Role"))


class MemberRoleForm(FlaskForm):
    role_id = SelectField(_l("Role"))


class _RightsForm(FlaskForm):
    name = name_field(_l("Name"), max_length=80)
    description = StringField(_l("Description"), default="", validators=[Optional(), Length(max=255)],
                              render_kw={"maxlength": 255})
    rights = MultiCheckboxField(_l("Rights"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rights.choices = as_choices(RIGHTS.items())  # the rights of the domains this installation has


class RoleForm(_RightsForm):
    pass


class GroupForm(_RightsForm):
    members = MultiCheckboxField(_l("Members"), choices=[])


class SettingsForm(FlaskForm):
    name = name_field(_l("Organisation name"))
    locale = language_field(_l("Language of documents"))
    timezone = timezone_field()
    document_folders = TextAreaField(_l("Folders every customer starts with"), render_kw={"rows": 5})
    call_outcomes = TextAreaField(_l("Outcomes offered when a call is logged"), render_kw={"rows": 5})
    agenda_kinds = MultiCheckboxField(_l("Also show in the agenda"),
                                      choices=as_choices((kind, LazyString(kind_label, kind)) for kind in AUTOMATIC_KINDS))
    reminder_minutes = SelectField(_l("Agenda reminders, unless a person chooses otherwise"),
                                   choices=as_choices(LEAD_LABELS.items()), default="30")
    currency = SelectField(_l("Currency of quotes and invoices"), choices=as_choices((c, c) for c in CURRENCIES), default="EUR")
    payment_days = IntegerField(_l("Invoices are due after (days)"), validators=[Optional(), NumberRange(min=0, max=365)],
                                render_kw={"inputmode": "numeric", "min": 0, "max": 365})
    dunning_days = StringField(_l("Late-payment reminders (days after the due date)"), validators=[Length(max=60)],
                               render_kw={"placeholder": "7, 15, 30"})
    legal_details = TextAreaField(_l("Printed on quotes and invoices"), validators=[Length(max=1000)], render_kw={"rows": 4})
    logo = FileField(_l("Logo"), render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"})
    remove_logo = BooleanField(_l("Remove the logo"))
    require_two_factor = BooleanField(_l("Members must use two-factor sign-in"))

    def validate_logo(self, field):
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            self.logo_png = None
            return
        try:
            self.logo_png = clean_logo(upload.read(MAX_LOGO_BYTES + 1))
        except LogoRefused as refused:
            raise ValidationError(_l("The logo must be a PNG, JPEG, GIF or WebP image of at most 400 KB.")) from refused

    def validate_dunning_days(self, field):
        if self.dunning_list() is None:
            raise ValidationError(_l("Numbers of days separated by commas, like 7, 15, 30 (at most 5, each up to 365)."))

    def dunning_list(self) -> list[int] | None:
        """The reminder levels typed, sorted, without repeats ([] when empty: no reminders); None when not numbers."""
        parts = [p for p in (self.dunning_days.data or "").replace(";", ",").split(",") if p.strip()]
        days = {bounded_int(p, low=1, high=365) for p in parts}
        if None in days or len(days) > 5:
            return None
        return sorted(days)

    def validate_document_folders(self, field):
        lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        if any(len(line) > FOLDER_MAX for line in lines):
            raise ValidationError(_l("A folder name is at most %(n)d characters long.", n=FOLDER_MAX))
        if len(lines) > MAX_DEFAULT_FOLDERS:
            raise ValidationError(_l("At most %(n)d folders.", n=MAX_DEFAULT_FOLDERS))

    def validate_call_outcomes(self, field):
        lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        if any(len(line) > OUTCOME_MAX for line in lines):
            raise ValidationError(_l("An outcome is at most %(n)d characters long.", n=OUTCOME_MAX))
        if len(lines) > MAX_OUTCOMES:
            raise ValidationError(_l("At most %(n)d outcomes.", n=MAX_OUTCOMES))

    def outcome_list(self) -> list[str] | None:
        """The outcomes typed, one per line, without repeats; None when empty (the usual ones apply)."""
        return _unique_lines(self.call_outcomes.data, lambda line: " ".join(line.split())[:OUTCOME_MAX])

    def folder_list(self) -> list[str] | None:
        """The folders typed, one per line, without repeats; None when empty (the defaults apply)."""
        return _unique_lines(self.document_folders.data, clean_folder)


def _unique_lines(text: str | None, clean) -> list[str] | None:
    """The cleaned non-empty lines of ``text``, each once whatever its case; None when there are none."""
    found, seen = [], set()
    for line in (text or "").splitlines():
        value = clean(line)
        if value and value.lower() not in seen:
            seen.add(value.lower())
            found.append(value)
    return found or None


class SecurityLogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Event"), validators=[Optional()])
    user = SelectField(_l("Person"), validators=[Optional()])
    since = StringField(_l("From"), validators=[Optional()], render_kw={"type": "date"})
    until = StringField(_l("To"), validators=[Optional()], render_kw={"type": "date"})
