"""The organisation's single sign-on settings (Administration → Single sign-on, right ``admin.settings``)."""
from flask import flash, g, url_for
from flask_babel import gettext as _

from app.audit.web import client_info
from app.forms import as_choices, parse_uuid
from app.htmx import redirect_to, render_page
from app.models import Role
from app.permissions import require, role_label
from app.sso import admin_bp, crypto, settings
from app.sso.forms import ProviderForm, parse_domains
from app.sso.providers import ProviderError, org_key, read_discovery


def _form(row, roles: list[Role]) -> ProviderForm:
    if row is None:
        form = ProviderForm()
    else:
        form = ProviderForm(issuer=row.issuer, client_id=row.client_id, allowed_domains=", ".join(row.allowed_domains),
                            auto_join=row.auto_join, enabled=row.enabled,
                            default_role_id=str(row.default_role_id) if row.default_role_id else "")
    form.default_role_id.choices = as_choices([("", _("Choose a role")), *((str(r.id), role_label(r)) for r in roles)])
    return form


def _problems(form: ProviderForm, row, roles: list[Role]) -> dict | None:
    """Check what only the server can: the role (``settings.default_role_problem``), a secret for a new provider,
    and the issuer's discovery document when it changed; errors go on the fields. Return the endpoints read (None:
    unchanged)."""
    role = next((r for r in roles if str(r.id) == form.default_role_id.data), None)
    if form.auto_join.data or role is not None:
        if problem := settings.default_role_problem(g.viewer, role):
            form.default_role_id.errors.append(problem)
    if not form.client_secret.data and (row is None or crypto.decrypt(row.client_secret) is None):
        form.client_secret.errors.append(_("Enter the client secret the provider gave you."))
    if row is not None and row.issuer == form.issuer.data:
        return None
    try:
        return read_discovery(form.issuer.data)
    except ProviderError as error:
        form.issuer.errors.append(str(error.message))
        return None


@admin_bp.route("", methods=["GET", "POST"])
@require("admin.settings")
def edit():
    """Show and save the organisation's own OpenID provider."""
    row, roles = settings.get_settings(), settings.joinable_roles()
    form = _form(row, roles)
    if form.validate_on_submit():
        endpoints = _problems(form, row, roles)
        if not any(f.errors for f in form):
            settings.save_settings(g.viewer, g.tenant, settings.ProviderSettings(
                issuer=form.issuer.data, client_id=form.client_id.data, client_secret=form.client_secret.data or None,
                allowed_domains=parse_domains(form.allowed_domains.data), auto_join=form.auto_join.data,
                default_role_id=parse_uuid(form.default_role_id.data), enabled=form.enabled.data), endpoints, client_info())
            flash(_("The single sign-on settings have been saved."), "success")
            return redirect_to(url_for(".edit"))
    missing_role = row is not None and row.auto_join and not any(r.id == row.default_role_id for r in roles)
    lost_secret = row is not None and crypto.decrypt(row.client_secret) is None
    return render_page("sso/admin.html", "sso_form", form=form, row=row, missing_role=missing_role, lost_secret=lost_secret,
                       status=422 if form.is_submitted() else 200,
                       redirect_uri=url_for("sso.callback", key=org_key(g.tenant.slug), _external=True))

