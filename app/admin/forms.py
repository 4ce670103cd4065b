"""Forms of the administration pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import Length, Optional

from app.agenda.labels import AUTOMATIC_KINDS
from app.agenda.reminders import LEAD_LABELS
from app.agenda.services import MAX_OUTCOMES, OUTCOME_MAX
from app.documents.services import FOLDER_MAX, MAX_DEFAULT_FOLDERS, clean_folder
from app.forms import MultiCheckboxField, as_choices, email_field, language_field, name_field, timezone_field
from app.permissions import RIGHTS
from app.timeline.display import KIND_LABELS


class InviteForm(FlaskForm):
    email = email_field()
    role_id = SelectField(_l("Role"))


class MemberRoleForm(FlaskForm):
    role_id = SelectField(_l("Role"))


class _RightsForm(FlaskForm):
    name = name_field(_l("Name"), max_length=80)
    description = StringField(_l("Description"), default="", validators=[Optional(), Length(max=255)],
                              render_kw={"maxlength": 255})
    rights = MultiCheckboxField(_l("Rights"), choices=as_choices(RIGHTS.items()))


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
                                      choices=as_choices((kind, KIND_LABELS[kind]) for kind in AUTOMATIC_KINDS))
    reminder_minutes = SelectField(_l("Agenda reminders, unless a person chooses otherwise"),
                                   choices=as_choices(LEAD_LABELS.items()), default="30")

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
