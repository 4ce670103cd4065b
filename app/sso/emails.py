"""The e-mails of single sign-on: the confirmation that proves an address, and the notice that an identity was linked."""
from urllib.parse import urlsplit

from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.mail import send_mail


def send_confirmation(email: str, token: str, *, provider_label: str, issuer: str, locale: str | None) -> None:
    """Ask the owner of ``email`` to confirm, in the browser that signed in, that they use this provider."""
    link = url_for("sso.confirm", token=token, _external=True)
    with force_locale(locale or "en"):
        body = render_template("emails/sso_confirm.txt", link=link, provider=provider_label,
                               host=urlsplit(issuer).hostname or issuer, email=email)
        send_mail(email, _("Confirm your sign-in to Storia with %(provider)s", provider=provider_label), body)


def send_linked_notice(user, provider_label: str) -> None:
    """Tell the account's owner that a provider now signs them in (a takeover would not go unnoticed)."""
    with force_locale(user.locale or "en"):
        body = render_template("emails/sso_linked.txt", name=user.name, provider=provider_label,
                               account=url_for("auth.account", _external=True),
                               forgot=url_for("auth.forgot_password", _external=True))
        send_mail(user.email, _("%(provider)s now signs you in to Storia", provider=provider_label), body)
