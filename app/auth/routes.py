"""Account pages: sign-up, sign-in, sign-out, password reset."""
from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from jinja2_fragments.flask import render_block

from app import ratelimit
from app.audit.web import client_info
from app.auth import bp, emails, services
from app.auth.forms import (
    ConfirmSlugForm,
    ForgotPasswordForm,
    LoginForm,
    OrganisationForm,
    ResetPasswordForm,
    SignupForm,
)
from app.auth.signin import finish_sign_in, safe_next
from app.errors import render_error
from app.forms import SLUG_MESSAGES, supported_language
from app.htmx import redirect_to, render_page
from app.team import TeamError, create_organisation
from app.tenancy import slug_problem


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Sign up: a new organisation and its owner (or another organisation for a signed-in user)."""
    form = OrganisationForm() if current_user.is_authenticated else SignupForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_page("auth/signup.html", "signup_form", form=form, status=status)
    if not ratelimit.allow(ratelimit.bucket("signup", request.remote_addr or ""), 10, timedelta(hours=1)):
        return render_error(429)
    if current_user.is_authenticated:
        tenant = create_organisation(current_user, form.org_name.data, form.slug.data, client_info())
        return redirect_to(url_for("tenant.dashboard.index", tenant_slug=tenant.slug))
    locale = supported_language(session.get("lang") or request.accept_languages.best_match(current_app.config["LANGUAGES"]))
    result = services.request_signup(email=form.email.data, name=form.name.data, password=form.password.data,
                                     org_name=form.org_name.data, slug=form.slug.data, locale=locale)
    emails.send_signup_mail(result)
    return redirect_to(url_for("auth.check_inbox", reason="signup"))


@bp.get("/signup/slug")
def slug_check():
    """Say whether a web address is free (inline validation while typing): always the fragment."""
    slug = request.args.get("slug", "").strip().lower()
    problem = slug_problem(slug) if slug else None
    # Not render_page: the whole page needs a form this endpoint does not have (a plain GET was a 500).
    return render_block("auth/signup.html", "slug_feedback", slug=slug,
                        problem=SLUG_MESSAGES[problem] if problem else None)


@bp.get("/check-inbox")
def check_inbox():
    return render_template("auth/check_inbox.html", reason=request.args.get("reason", "signup"))


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def confirm_signup(token):
    """Confirm a sign-up from the e-mailed link (a POST, so that link scanners confirm nothing)."""
    pending = services.get_pending_signup(token)
    if pending is None:
        return render_template("auth/link_invalid.html"), 404
    form = ConfirmSlugForm(slug=pending.slug)
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_page("auth/confirm_signup.html", "confirm_form", form=form, pending=pending, status=status)
    try:
        user, tenant = services.confirm_signup(pending, form.slug.data, client_info())
    except TeamError as error:
        form.slug.errors.append(str(error))
        return render_page("auth/confirm_signup.html", "confirm_form", form=form, pending=pending, status=422)
    return finish_sign_in(user, url_for("tenant.dashboard.index", tenant_slug=tenant.slug))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("public.index"))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_page("auth/login.html", "login_form", form=form, status=status)
    outcome, user = services.authenticate(form.email.data, form.password.data, client_info())
    if outcome is not services.LoginOutcome.OK:
        message = (_("Too many attempts. Wait 15 minutes, or reset your password.")
                   if outcome is services.LoginOutcome.THROTTLED else _("Wrong e-mail or password."))
        status = 429 if outcome is services.LoginOutcome.THROTTLED else 422
        return render_page("auth/login.html", "login_form", form=form, error=message, status=status)
    return finish_sign_in(user, form.next.data)


@bp.post("/logout")
def logout():
    """Sign out: end the server-side session."""
    if current_user.is_authenticated:
        services.sign_out(current_user, client_info())
        logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect_to(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether the e-mail has an account."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_page("auth/forgot.html", "forgot_form", form=form, status=status)
    email = services.normalise_email(form.email.data)
    if not (ratelimit.allow(ratelimit.bucket("forgot-ip", request.remote_addr or ""), 20, timedelta(minutes=15))
            and ratelimit.allow(ratelimit.bucket("forgot-email", email), 3, timedelta(minutes=15))):
        return render_error(429)
    emails.send_reset_mail(email, client_info())
    return redirect_to(url_for("auth.check_inbox", reason="reset"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password from an e-mailed link (single use, expires)."""
    user = services.user_for_reset_token(token)
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = ResetPasswordForm()
    form.known_email = user.email
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_page("auth/reset.html", "reset_form", form=form, status=status)
    services.set_password(user, form.password.data, client_info(), kind="password_reset")
    flash(_("Your password has been changed."), "success")
    return finish_sign_in(user)  # the link proved the e-mail, not the second factor: it is still asked for


from app.auth import account_routes, invite_routes, twofactor_routes  # noqa: E402,F401
