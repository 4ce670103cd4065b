"""The signed-in user's own settings: name, language, time zone, password."""
from datetime import timedelta

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import ratelimit
from app.audit.web import client_info
from app.auth import bp, services
from app.auth.forms import AccountForm, ChangePasswordForm
from app.auth.passwords import verify_password
from app.errors import render_error
from app.htmx import redirect_to, render_page


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Show and save the user's name, language and time zone."""
    form = AccountForm(obj=current_user, locale=current_user.locale or "en")
    if form.validate_on_submit():
        services.update_account(current_user, name=form.name.data, locale=form.locale.data,
                                timezone=form.timezone.data)
        flash(_("Your settings have been saved."), "success")
        return redirect_to(url_for("auth.account"))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/account.html", "account_form", form=form, password_form=ChangePasswordForm(),
                       status=status)


@bp.post("/account/password")
@login_required
def change_password():
    """Change the password (needs the current one); other sessions end."""
    form = ChangePasswordForm()
    form.known_email = current_user.email
    # A stolen session must not become a way to guess the password: checks are counted per account.
    if form.validate_on_submit() and not ratelimit.allow(ratelimit.bucket("password-check", str(current_user.id)), 10,
                                                    timedelta(minutes=15)):
        return render_error(429)
    if form.validate_on_submit() and not verify_password(current_user.password_hash, form.current_password.data):
        form.current_password.errors.append(_("This is not your current password."))
    elif form.validate_on_submit():
        services.set_password(current_user, form.password.data, client_info(), kind="password_changed")
        flash(_("Your password has been changed. Your other sessions have been signed out."), "success")
        return redirect_to(url_for("auth.account"))
    return render_page("auth/account.html", "password_form", form=AccountForm(obj=current_user),
                       password_form=form, status=422)
