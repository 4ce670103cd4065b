"""The e-mails of the account pages, in the recipient's language where it is known."""
from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.audit.services import ClientInfo, record_account_event
from app.auth import services
from app.extensions import db
from app.mail import send_mail


def send_signup_mail(result: dict) -> None:
    """Send the confirmation link, or tell an existing account holder they already have one."""
    if result["kind"] == "new":
        link = url_for("auth.confirm_signup", token=result["token"], _external=True)
        body = render_template("emails/signup_confirm.txt", link=link)
        send_mail(result["email"], _("Confirm your Storia sign-up"), body)
    else:
        body = render_template("emails/signup_existing.txt", login=url_for("auth.login", _external=True),
                               forgot=url_for("auth.forgot_password", _external=True))
        send_mail(result["email"], _("You already have a Storia account"), body)


def send_reset_mail(email: str, client: ClientInfo) -> None:
    """Send a reset link to an account holder; tell any other address that it has no account."""
    user = services.get_user_by_email(email)
    if user is None:
        body = render_template("emails/reset_unknown.txt", signup=url_for("auth.signup", _external=True))
        send_mail(services.normalise_email(email), _("Password reset requested"), body)
        return
    record_account_event(user, "password_reset_requested", client)
    db.session.commit()
    link = url_for("auth.reset_password", token=services.password_reset_token(user), _external=True)
    with force_locale(user.locale or "en"):
        body = render_template("emails/reset.txt", link=link, name=user.name)
        send_mail(user.email, _("Reset your Storia password"), body)


def send_invitation_mail(email: str, token: str, tenant_name: str, inviter: str) -> None:
    link = url_for("auth.accept_invitation", token=token, _external=True)
    body = render_template("emails/invitation.txt", link=link, tenant_name=tenant_name, inviter=inviter)
    send_mail(email, _("%(inviter)s invites you to %(tenant)s on Storia", inviter=inviter, tenant=tenant_name), body)
