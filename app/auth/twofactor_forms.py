"""Forms of two-factor sign-in: setting it up, the sign-in step, new recovery codes, turning it off."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.auth.passwords import MAX_LENGTH


def _code_field(label, *, required=True, **attributes):
    """The six digits an authenticator app shows: a phone offers its number pad and the code it just received."""
    return StringField(label, validators=[DataRequired() if required else Optional(), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12,
                                  "autocapitalize": "none", "spellcheck": "false", **attributes})


class SetupForm(FlaskForm):
    """Confirm a new authenticator with a code it shows (``setup`` carries the sealed secret being set up)."""

    setup = HiddenField(validators=[DataRequired(), Length(max=1000)])
    code = _code_field(_l("Code from the app"))
    next = HiddenField()


class SignInCodeForm(FlaskForm):
    """The second step of a sign-in: a code of the app, or else a recovery code."""

    code = _code_field(_l("Code from the app"), required=False, autofocus=True)  # the one thing this page asks for
    recovery = StringField(_l("Recovery code"), validators=[Optional(), Length(max=32)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "maxlength": 32})
    remember = BooleanField(_l("Remember this device for 30 days"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not (self.code.data or "").strip() and not (self.recovery.data or "").strip():
            self.code.errors.append(_l("Enter the code your app shows, or a recovery code."))
            return False
        return True

    def entered(self) -> str:
        return (self.code.data or "").strip() or (self.recovery.data or "").strip()


class RegenerateCodesForm(FlaskForm):
    code = _code_field(_l("Code from the app"))


class DisableForm(FlaskForm):
    """Turning it off needs the password, or a current code of the app."""

    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    code = _code_field(_l("Or a code from the app"), required=False)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.password.data and not (self.code.data or "").strip():
            self.password.errors.append(_l("Enter your password or a code from the app."))
            return False
        return True
