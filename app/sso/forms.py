"""Forms of single sign-on: the work e-mail that finds an organisation's provider, the e-mailed confirmation, and the
organisation's provider settings."""
import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from app.forms import email_field

MAX_DOMAINS = 20
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
# Addresses anyone can get: an organisation claiming one would be offered to every person typing such an address.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.fr", "hotmail.it", "live.com", "live.fr",
    "live.it", "msn.com", "yahoo.com", "yahoo.fr", "yahoo.it", "ymail.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.net", "gmx.de", "gmx.fr", "web.de", "mail.com",
    "zoho.com", "yandex.com", "yandex.ru", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net",
    "libero.it", "virgilio.it", "tiscali.it", "alice.it", "tin.it", "fastwebnet.it",
})


class FindForm(FlaskForm):
    email = email_field(_l("Your work e-mail"))


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the link carries everything else."""


def parse_domains(text: str) -> list[str]:
    """The domains typed (separated by commas, spaces or lines), lower-cased, without "@" or duplicates."""
    return list(dict.fromkeys(d.strip().lstrip("@").rstrip(".").lower() for d in re.split(r"[\s,;]+", text or "")
                              if d.strip()))


class ProviderForm(FlaskForm):
    enabled = BooleanField(_l("Members can sign in with this provider"), default=True)
    issuer = StringField(_l("Issuer URL"), validators=[DataRequired(), Length(max=255)],
                         filters=[lambda v: v.strip() if isinstance(v, str) else v],
                         render_kw={"type": "url", "inputmode": "url", "maxlength": 255, "autocapitalize": "none",
                                    "spellcheck": "false", "placeholder": "https://login.example.com"})
    client_id = StringField(_l("Client ID"), validators=[DataRequired(), Length(max=255)],
                            filters=[lambda v: v.strip() if isinstance(v, str) else v],
                            render_kw={"maxlength": 255, "autocapitalize": "none", "spellcheck": "false"})
    client_secret = PasswordField(_l("Client secret"), validators=[Optional(), Length(max=500)],
                                  render_kw={"autocomplete": "new-password", "maxlength": 500})
    allowed_domains = StringField(_l("E-mail domains it signs in"), validators=[DataRequired(), Length(max=1000)],
                                  render_kw={"maxlength": 1000, "autocapitalize": "none", "spellcheck": "false",
                                             "placeholder": "example.org, example.net"})
    auto_join = BooleanField(_l("People of these domains join the organisation on their first sign-in"))
    default_role_id = SelectField(_l("Role of the people who join"), choices=[])

    def validate_issuer(self, field):
        parts = urlsplit(field.data or "")
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment \
                or any(c.isspace() or not c.isprintable() for c in field.data):
            raise ValidationError(_l("Enter the provider's address, like https://login.example.com."))

    def validate_allowed_domains(self, field):
        domains = parse_domains(field.data)
        wrong = [d for d in domains if not _DOMAIN.match(d)]
        if wrong:
            raise ValidationError(_l("Not a domain: %(domains)s.", domains=", ".join(wrong)[:200]))
        public = [d for d in domains if d in PUBLIC_MAIL_DOMAINS]
        if public:
            raise ValidationError(_l("Anyone can have an address at %(domains)s: it cannot be given to one organisation.",
                                     domains=", ".join(public)))
        if len(domains) > MAX_DOMAINS:
            raise ValidationError(_l("At most %(n)d domains.", n=MAX_DOMAINS))
