"""Single sign-on pages: find an organisation's provider, start, the provider's answer, the e-mailed confirmation,
link and unlink. Every way into a session ends in ``finish_sign_in``."""
from authlib.common.security import generate_token
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.audit.web import client_info
from app.auth.signin import finish_sign_in, safe_next
from app.forms import supported_language
from app.htmx import redirect_to, render_page
from app.sso import bp, emails, flow, services
from app.sso.forms import ConfirmForm, FindForm
from app.sso.providers import ORG_PREFIX, ProviderError, get_provider, global_keys, org_key
from app.sso.refusals import Refused, record_refusal
from app.tenancy import get_tenant_by_slug


def _locale() -> str:
    return supported_language(session.get("lang") or request.accept_languages.best_match(current_app.config["LANGUAGES"]))


def _binding() -> str:
    """What ties an e-mailed confirmation to this browser: its signed-in session, else a random value of its own."""
    if current_user.is_authenticated and current_user.auth_session is not None:
        return f"s:{current_user.auth_session.id}"
    if not isinstance(session.get("sso_binding"), str):
        session["sso_binding"] = generate_token(24)
    return "b:" + session["sso_binding"]


def _label(key: str) -> str:
    """The provider's name for a refusal page, when the provider itself could not be loaded."""
    if key.startswith(ORG_PREFIX) and (tenant := get_tenant_by_slug(key[len(ORG_PREFIX):])) is not None:
        return tenant.name
    return dict(global_keys()).get(key) or _("the provider")


def _refused(refused: Refused, key: str, provider=None):
    """The clear page of a refusal, once it is logged (``refusals.record_refusal``)."""
    if refused.user is None and current_user.is_authenticated:
        refused.user = current_user
    record_refusal(refused, key, provider.tenant_id if provider else None, client_info())
    message, advice = refused.message(provider.label if provider else _label(key))
    return render_template("sso/refused.html", message=message, advice=advice), refused.status


def _cross_site() -> bool:
    """A flow must be started from a page of this site (Fetch Metadata): another site could otherwise sign a
    visitor in with an identity of its choosing (login CSRF through a provider it controls)."""
    return request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")


def _begin(key: str, **options):
    """Send the browser to the provider ``key`` with a new flow. :raise 404: no such provider."""
    if _cross_site():
        return render_template("sso/refused.html", message=_("Start signing in from the Storia sign-in page."),
                               advice=None), 403
    try:
        provider = get_provider(key)
    except ProviderError:
        return _refused(Refused("unavailable"), key)
    if provider is None:
        abort(404)
    return redirect(flow.begin(provider, **options), 302)


@bp.route("/", methods=["GET", "POST"])
def find():
    """Ask for the work e-mail and offer the organisations whose provider signs its domain in."""
    form = FindForm()
    if not form.validate_on_submit():
        return render_page("sso/find.html", "find_form", form=form, status=422 if form.is_submitted() else 200)
    choices = [(org_key(t.slug), t.name) for t in services.organisations_for(form.email.data)]
    return render_page("sso/find.html", "find_form", form=form, choices=choices, hint=form.email.data,
                       status=200 if choices else 422)


@bp.get("/<key>/start")
def start(key):
    """Sign in with the provider ``key`` (google, microsoft, org-<slug>): off to its sign-in page."""
    hint = request.args.get("hint", "")
    return _begin(key, next_url=safe_next(request.args.get("next")), hint=hint if "@" in hint else None)


@bp.get("/<key>/link")
@login_required
def link(key):
    """Link the provider ``key`` to the signed-in account (its address must be the account's)."""
    return _begin(key, purpose="link", next_url=url_for("auth.account"), hint=current_user.email,
                  user_id=current_user.id)


@bp.get("/<key>/callback")
def callback(key):
    """The provider's answer: check it (``flow``), then sign in, link, or e-mail a confirmation (``services``)."""
    if get_provider(key, discover=False) is None:
        abort(404)
    if not any(request.args.get(name) for name in ("state", "code", "error")):
        return redirect(url_for("auth.login"))  # a reload or a bookmark, not an answer: nothing to refuse
    provider = None
    try:
        started = flow.take_flow(key, request.args.get("state"))
        provider = get_provider(key)
        if provider is None:
            raise Refused("setup")
        actor = current_user if started["p"] == "link" else None
        if actor is not None and (not actor.is_authenticated or str(actor.id) != started["u"]):
            raise Refused("state")
        claimed = flow.complete(provider, started, request.args)
        decision = services.decide(provider, claimed, purpose=started["p"], actor=actor, binding=_binding(),
                                   next_url=started["x"], client=client_info(), locale=_locale())
    except ProviderError:
        return _refused(Refused("unavailable"), key)
    except Refused as refused:
        return _refused(refused, key, provider)
    return _answer(decision, provider, started["x"])


def _answer(decision, provider, next_url):
    if decision.kind == "confirm":
        emails.send_confirmation(decision.email, decision.token, provider_label=provider.label, issuer=provider.issuer,
                                 locale=_locale())
        return render_template("sso/check_inbox.html", email=decision.email, provider=provider.label)
    if decision.linked_now:
        emails.send_linked_notice(decision.user, provider.label)
    if decision.kind == "linked":
        flash(_("%(provider)s now signs you in.", provider=provider.label), "success")
        return redirect(url_for("auth.account"))
    return finish_sign_in(decision.user, next_url)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    """The e-mailed confirmation: the page (GET changes nothing, so link scanners do nothing), then the POST that
    links the identity (or creates the account) and signs in, in the browser that signed in at the provider."""
    confirmation = services.read_confirmation(token)
    provider = get_provider(confirmation.provider_key, discover=False) if confirmation else None
    if provider is None:
        return render_template("auth/link_invalid.html"), 404
    linking = confirmation.purpose == "link"
    if not confirmation.binds(_binding()) or (linking and str(getattr(current_user, "id", "")) != confirmation.user_id):
        return render_template("sso/other_browser.html", provider=provider.label), 403
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_page("sso/confirm.html", "confirm_form", form=form, provider=provider,
                           email=confirmation.claimed.email, linking=linking, status=422 if form.is_submitted() else 200)
    try:
        user = services.attach(provider, confirmation.claimed, client_info(), user=current_user if linking else None,
                               locale=_locale())
    except Refused as refused:
        return _refused(refused, confirmation.provider_key, provider)
    emails.send_linked_notice(user, provider.label)
    if linking:
        flash(_("%(provider)s now signs you in.", provider=provider.label), "success")
        return redirect_to(url_for("auth.account"))
    return finish_sign_in(user, confirmation.next_url)


@bp.post("/identities/<uuid:identity_id>/unlink")
@login_required
def unlink(identity_id):
    """Stop a provider from signing the account in. :raise 404: not one of the account's."""
    identity = services.unlink(current_user, identity_id, client_info())
    if identity is None:
        abort(404)
    flash(_("%(provider)s no longer signs you in.", provider=identity.label), "success")
    return redirect_to(url_for("auth.account"))
