"""Two-factor sign-in pages: the code step of a sign-in, setting it up and managing it from the account, and the
organisations that require it. (An administrator's reset of a member's second factor is a page of the admin domain.)"""
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import ratelimit
from app.audit.web import client_info
from app.auth import bp, twofactor
from app.auth.signin import DEVICE_COOKIE, PENDING_KEY, forget_pending, open_session, pending_user, safe_next
from app.auth.twofactor_forms import DisableForm, RegenerateCodesForm, SetupForm, SignInCodeForm
from app.errors import render_error
from app.extensions import htmx
from app.htmx import redirect_to, render_page
from app.permissions import MEMBER_CHECKS

SETUP_KEY, SHOWN_KEY = "two_factor_setup", "recovery_codes"  # in the signed session, both sealed (twofactor.seal)
SHOWN_MAX_AGE = timedelta(minutes=10)


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor():
    """The second step of a sign-in: a code of the app (or a recovery code); only then does the session start."""
    found = pending_user()
    if found is None:
        if session.get(PENDING_KEY):
            flash(_("That took too long, or something changed: sign in again."), "info")
        forget_pending()
        return redirect_to(url_for("auth.login"))
    user, next_url = found
    form = SignInCodeForm()
    if not form.validate_on_submit():
        return render_page("auth/two_factor.html", "code_form", form=form, status=422 if form.is_submitted() else 200)
    outcome, device = twofactor.check_sign_in_code(user, form.entered(), client_info(), remember=form.remember.data)
    if outcome is twofactor.Outcome.THROTTLED:
        return render_page("auth/two_factor.html", "code_form", form=form, status=429,
                           error=_("Too many attempts. Wait 15 minutes, or reset your password."))
    if outcome is twofactor.Outcome.WRONG:
        form.code.errors.append(_("This code is not right. Type the newest code your app shows, or a recovery code."))
        return render_page("auth/two_factor.html", "code_form", form=form, status=422)
    if outcome is twofactor.Outcome.RECOVERY:
        flash(_("You signed in with a recovery code. Recovery codes left: %(count)s.",
                count=twofactor.recovery_codes_left(user.id)), "info")
    response = open_session(user, next_url)
    if device:
        response.set_cookie(DEVICE_COOKIE, device, max_age=int(timedelta(days=twofactor.DEVICE_DAYS).total_seconds()),
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax", path="/")
    return response


def _setup_token(form: SetupForm | None = None) -> str:
    """The sealed secret being set up: the form's while it is valid, else this browser's (kept in its session so that
    a reload shows the same code), else a new one."""
    for token in ((form.setup.data if form else None), session.get(SETUP_KEY)):
        if twofactor.setup_secret(token, current_user, max_age=twofactor.SETUP_MAX_AGE / 2):
            return token
    session[SETUP_KEY] = twofactor.new_setup(current_user)
    return session[SETUP_KEY]


def _setup_page(form: SetupForm, status: int = 200):
    token = _setup_token(form if form.is_submitted() else None)
    form.setup.data = token
    secret = twofactor.setup_secret(token, current_user)
    return render_page("auth/two_factor_setup.html", "setup_form", form=form, status=status,
                       qr=twofactor.qr_code(secret, current_user), secret=twofactor.grouped(secret))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_settings():
    """Set up two-factor sign-in (a QR code, its key, a code to confirm), or see and manage it once it is on."""
    if twofactor.has_two_factor(current_user.id):
        if request.method == "POST":
            return redirect_to(url_for("auth.two_factor_settings"))
        return render_page("auth/two_factor_manage.html", "disable_form", form=DisableForm(),
                           left=twofactor.recovery_codes_left(current_user.id))
    form = SetupForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return _setup_page(form, 422 if form.is_submitted() else 200)
    codes = twofactor.enable(current_user, form.setup.data, form.code.data, client_info())
    if codes is None:
        form.code.errors.append(_("This code is not right. Type the code your app shows now for Storia."))
        return _setup_page(form, 422)
    session.pop(SETUP_KEY, None)
    session[SHOWN_KEY] = twofactor.seal("shown", current_user, codes)
    flash(_("Two-factor sign-in is on."), "success")
    return redirect_to(url_for("auth.recovery_codes", next=safe_next(form.next.data) or None))


def _password_checks_left() -> bool:
    """A stolen session must not become a way to guess the password or codes: checks are counted per account."""
    return ratelimit.allow(ratelimit.bucket("password-check", str(current_user.id)), 10, timedelta(minutes=15))


@bp.post("/account/two-factor/disable")
@login_required
def disable_two_factor():
    """Turn two-factor sign-in off (needs the password or a current code); remembered devices are forgotten."""
    if not twofactor.has_two_factor(current_user.id):
        return redirect_to(url_for("auth.two_factor_settings"))
    form = DisableForm()
    if form.validate_on_submit():
        if not _password_checks_left():
            return render_error(429)
        if twofactor.disable(current_user, client_info(), password=form.password.data or "", code=form.code.data or ""):
            flash(_("Two-factor sign-in is off: you sign in with your password alone."), "success")
            return redirect_to(url_for("auth.two_factor_settings"))
        form.password.errors.append(_("Neither the password nor the code is right."))
    return render_page("auth/two_factor_manage.html", "disable_form", form=form,
                       left=twofactor.recovery_codes_left(current_user.id), status=422)


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    """Show the recovery codes just made (once), or make new ones with a current code (the old ones stop working)."""
    if not twofactor.has_two_factor(current_user.id):
        return redirect_to(url_for("auth.two_factor_settings"))
    form = RegenerateCodesForm()
    shown = twofactor.unseal("shown", session.pop(SHOWN_KEY, None), current_user, SHOWN_MAX_AGE) if request.method == "GET" else None
    context = {"form": form, "codes": shown or [], "left": twofactor.recovery_codes_left(current_user.id),
               "next_url": safe_next(request.args.get("next")) or url_for("auth.two_factor_settings")}
    if not form.validate_on_submit():
        return render_page("auth/recovery_codes.html", "regenerate_form", status=422 if form.is_submitted() else 200, **context)
    if not _password_checks_left():
        return render_error(429)
    codes = twofactor.regenerate_recovery_codes(current_user, form.code.data, client_info())
    if codes is None:
        form.code.errors.append(_("This code is not right. Type the code your app shows now for Storia."))
        return render_page("auth/recovery_codes.html", "regenerate_form", status=422, **context)
    session[SHOWN_KEY] = twofactor.seal("shown", current_user, codes)
    flash(_("New recovery codes are ready; the old ones no longer work."), "success")
    return redirect_to(url_for("auth.recovery_codes"))


def require_set_up():
    """Part of the membership guard of tenant pages: a member of an organisation that requires two-factor sign-in
    who does not use it is sent to set it up first, then comes back to where they were going."""
    if not g.tenant.require_two_factor or twofactor.has_two_factor(current_user.id):
        return None
    flash(_("%(name)s asks its members to use two-factor sign-in: set it up to continue.", name=g.tenant.name), "info")
    back = request.full_path.rstrip("?") if request.method == "GET" else url_for("tenant.dashboard.index")
    if htmx:  # a part of a page: come back to the page it was on
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "") if current.path else back
    target = url_for("auth.two_factor_settings", next=safe_next(back))
    return redirect_to(target) if htmx else redirect(target)


@bp.app_template_global()
def two_factor_on() -> bool:
    """Whether the signed-in person uses two-factor sign-in (their account page)."""
    return current_user.is_authenticated and twofactor.has_two_factor(current_user.id)


@bp.app_template_global()
def two_factor_users() -> set:
    """The members of this organisation who use two-factor sign-in (the team page; one query per request)."""
    if "two_factor_users" not in g:
        g.two_factor_users = twofactor.users_with_two_factor()
    return g.two_factor_users


MEMBER_CHECKS.append(require_set_up)  # the membership guard of every tenant page asks it
