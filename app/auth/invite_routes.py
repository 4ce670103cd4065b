"""Accepting an invitation: with the account one already has, or a new one."""
from flask import current_app, flash, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import team
from app.audit.web import client_info
from app.auth import bp, services
from app.auth.forms import JoinForm
from app.auth.signin import start_signed_in
from app.htmx import redirect_to, render_page
from app.permissions import role_label


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """Join an organisation from an e-mailed invitation (the account must be the invited e-mail's)."""
    found = team.invitation_from_token(token, current_app.config["INVITATION_MAX_AGE"])
    if found is None:
        return render_template("auth/link_invalid.html"), 404
    tenant, invitation = found
    context = {"tenant": tenant, "invitation": invitation, "role_name": role_label(invitation.role), "token": token}
    if current_user.is_authenticated:
        if current_user.email != invitation.email:
            return render_template("auth/invite.html", state="other_account", **context)
        if request.method == "POST":
            return _join(tenant, invitation, current_user)
        return render_template("auth/invite.html", state="accept", **context)
    if services.get_user_by_email(invitation.email) is not None:
        return render_template("auth/invite.html", state="sign_in", **context)
    form = JoinForm()
    form.known_email = invitation.email
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_page("auth/invite.html", "join_form", form=form, state="join", status=status, **context)
    user = services.create_invited_user(invitation.email, form.name.data, form.password.data, str(get_locale()))
    start_signed_in(user)
    return _join(tenant, invitation, user)


def _join(tenant, invitation, user):
    team.accept_invitation(tenant, invitation, user, client_info())
    flash(_("Welcome to %(name)s.", name=tenant.name), "success")
    return redirect_to(url_for("tenant.dashboard.index", tenant_slug=tenant.slug))
