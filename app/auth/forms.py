"""Forms of the account pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.auth.passwords import MAX_LENGTH, password_problem
from app.forms import email_field, language_field, name_field, timezone_field, validate_new_slug


def _new_password_field(label):
    return PasswordField(label, validators=[DataRequired(), Length(max=MAX_LENGTH)],
                         render_kw={"autocomplete": "new-password", "minlength": 10, "maxlength": MAX_LENGTH})


class _NewPasswordMixin:
    def validate_password(self, field):
        email = getattr(getattr(self, "email", None), "data", None) or getattr(self, "known_email", "")
        name = getattr(getattr(self, "name", None), "data", None) or ""
        problem = password_problem(field.data or "", email=email or "", name=name)
        if problem:
            raise ValidationError(problem)


class OrganisationForm(FlaskForm):
    org_name = name_field(_l("Organisation name"))
    slug = StringField(_l("Web address"), validators=[DataRequired(), validate_new_slug],
                       render_kw={"maxlength": 40, "autocapitalize": "none", "spellcheck": "false"})


class SignupForm(_NewPasswordMixin, OrganisationForm):
    name = name_field(_l("Your name"))
    email = email_field(_l("Your e-mail"))
    password = _new_password_field(_l("Password"))


class ConfirmSlugForm(FlaskForm):
    slug = OrganisationForm.slug


class LoginForm(FlaskForm):
    # No format check: any wrong input gets the same answer as a wrong password.
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "username", "maxlength": 254})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(_NewPasswordMixin, FlaskForm):
    password = _new_password_field(_l("New password"))


class JoinForm(_NewPasswordMixin, FlaskForm):
    """Account creation for an invited person: the e-mail is the invitation's."""

    name = name_field(_l("Your name"))
    password = _new_password_field(_l("Password"))


class AccountForm(FlaskForm):
    name = name_field(_l("Your name"))
    locale = language_field()
    timezone = timezone_field()


class ChangePasswordForm(_NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                                     render_kw={"autocomplete": "current-password"})
    password = _new_password_field(_l("New password"))
