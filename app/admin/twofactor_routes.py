"""An administrator's reset of a member's second factor (a lost phone and no recovery code left)."""
from flask import abort, flash, g, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import team
from app.admin import bp
from app.audit.web import client_info, log_denied
from app.auth import twofactor
from app.errors import render_error
from app.htmx import redirect_to
from app.mail import send_mail
from app.permissions import require


@bp.post("/members/<uuid:membership_id>/two-factor/reset")
@require("admin.users")
def reset_two_factor(membership_id):
    """Remove a member's second factor (a lost phone and no recovery code left); they are told by e-mail."""
    member = team.get_member(membership_id) or abort(404)
    try:
        twofactor.reset_member(g.viewer, member, client_info(), by=current_user.email, organisation=g.tenant.name)
    except twofactor.ResetRefused as refusal:
        if refusal.forbidden:
            log_denied(403, reason="two_factor_reset")
            return render_error(403, str(refusal))
        flash(str(refusal), "error")
        return redirect_to(url_for(".members"))
    _mail_reset_notice(member.user, current_user.name, g.tenant.name)
    flash(_("The two-factor sign-in of %(name)s was reset; they were told by e-mail.", name=member.user.name), "success")
    return redirect_to(url_for(".members"))


def _mail_reset_notice(user, admin_name: str, organisation: str) -> None:
    with force_locale(user.locale or "en"):
        body = render_template("emails/two_factor_reset.txt", name=user.name, admin=admin_name, organisation=organisation,
                               link=url_for("auth.two_factor_settings", _external=True))
        send_mail(user.email, _("Your two-factor sign-in was reset"), body)


