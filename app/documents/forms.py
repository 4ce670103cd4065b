"""The upload form and the document form (rename, move, describe, tag)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.documents import filetypes
from app.documents.services import FOLDER_MAX
from app.forms import MultiCheckboxField
from app.idempotency import new_key


def _strip(value):
    return value.strip() if isinstance(value, str) else value




class UploadForm(FlaskForm):
    files = MultipleFileField(_l("Files"), render_kw={"multiple": True})
    folder = StringField(_l("Folder"), filters=[_strip], validators=[Length(max=FOLDER_MAX)],
                         render_kw={"list": "folder-names", "autocomplete": "off"})
    contact_id = HiddenField()
    # Attached to a record of another domain: an agenda item (a meeting's minutes), a quote or an invoice (the signed
    # copy)… The domain of ``about_type`` says whether the viewer may attach to it (hook "document_subject").
    about_type = HiddenField()
    about_id = HiddenField()
    idempotency_key = HiddenField()

    def chosen_files(self) -> list:
        return [f for f in (self.files.data or []) if getattr(f, "filename", "")]

    def validate_files(self, field):
        if not self.chosen_files():
            raise ValidationError(_l("Choose at least one file."))


def upload_form(contact_id=None, folder: str = "", about: tuple | None = None) -> UploadForm:
    """The upload form; ``about``: (type, id) of the record the files are attached to."""
    about_type, about_id = about or ("", "")
    return UploadForm(formdata=None, contact_id=str(contact_id or ""), folder=folder, about_type=about_type,
                      about_id=str(about_id), idempotency_key=new_key())


class DocumentForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    folder = StringField(_l("Folder"), filters=[_strip], validators=[Length(max=FOLDER_MAX)],
                         render_kw={"list": "folder-names", "autocomplete": "off"})
    description = TextAreaField(_l("Description"), filters=[_strip], validators=[Length(max=5000)], render_kw={"rows": 3})
    tag_ids = MultiCheckboxField(_l("Tags"), choices=[])
    version = HiddenField()
    base = HiddenField()

    def validate_name(self, field):
        if not filetypes.display_name(field.data or "", fallback=""):
            raise ValidationError(_l("Give the document a name."))

    def values(self) -> dict:
        # Saved cleaned like an uploaded file's name: no path, no control or direction characters.
        return {"name": filetypes.display_name(self.name.data), "folder": self.folder.data or "",
                "description": self.description.data or "",
                "tag_ids": list(self.tag_ids.data or [])}
