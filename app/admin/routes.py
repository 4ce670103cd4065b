"""Team administration: members, their roles and status, invitations, organisation settings."""
import uuid

from flask import abort, current_app, flash, g, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import grants, team
from app.admin import bp, services
from app.admin.forms import InviteForm, MemberRoleForm, SettingsForm
from app.admin.roles import list_roles
from app.agenda.labels import OUTCOMES
from app.audit.web import client_info, log_denied
from app.auth.emails import send_invitation_mail
from app.documents.services import DEFAULT_FOLDERS
from app.errors import render_error
from app.extensions import db
from app.forms import as_choices
from app.htmx import redirect_to, render_page, wants_fragment
from app.models import utcnow
from app.permissions import BUILTIN_ROLES, require, role_label
from app.sales.dunning import levels, stored_levels


@bp.errorhandler(grants.GrantRefused)
def _grant_refused(error):
    """A change of rights beyond the actor's own (a forged form: the pages only offer what is allowed): 403, logged."""
    db.session.rollback()  # nothing of the refused change may ride along with the log entry
    log_denied(403, reason=str(error)[:200])
    return render_error(403, str(error))


def _role_choices() -> list[tuple[str, str]]:
    """The roles the viewer may give (every right of which they hold)."""
    return [(str(role.id), role_label(role)) for role in grants.grantable(g.viewer, [r for r, _count in list_roles()])]


def _default_role_id() -> str | None:
    """New members are invited as sales people unless the inviter picks another role."""
    return next((str(role.id) for role, _count in list_roles() if role.key == "sales"), None)


def _role_guide() -> list[tuple[str, str, bool]]:
    """What each role the viewer may give lets a person see, for the invitation form: its label, its description,
    and whether it sees every customer (else only those the person represents: "only mine")."""
    return [(role_label(role), role.description or (BUILTIN_ROLES[role.key][1] if role.key in BUILTIN_ROLES else ""),
             role.is_owner or "thirdparty.read_all" in role.rights)
            for role in grants.grantable(g.viewer, [r for r, _count in list_roles()])]


def _team_page(invite_form=None, status=200, block=None):
    invite_form = invite_form or InviteForm()
    choices = _role_choices()
    invite_form.role_id.choices = as_choices(choices)
    if not invite_form.role_id.data:
        invite_form.role_id.data = _default_role_id()
    return render_page(
        "admin/members.html", block, status=status, members=team.list_members(), invite_form=invite_form,
        role_choices=choices, invitations=services.list_open_invitations(), manageable=grants.manageable_members(g.viewer),
        role_guide=_role_guide(),
    )


def _member_or_404(membership_id: uuid.UUID):
    """:raise 404: when the member is not in this organisation."""
    return team.get_member(membership_id) or abort(404)


def _member_row(member, status=200):
    """The member's row for an htmx swap; a plain form post gets the team page (303 on success)."""
    if not wants_fragment():
        return _team_page(status=status) if status >= 400 else redirect_to(url_for(".members"))
    return render_page("admin/members.html", "member_row", member=member, role_choices=_role_choices(), status=status,
                       manageable=grants.manageable_members(g.viewer))


@bp.get("/members")
@require("admin.users")
def members():
    """Show the team and the open invitations."""
    return _team_page()


@bp.post("/members/<uuid:membership_id>/role")
@require("admin.users")
def change_role(membership_id):
    """Give a member another role."""
    member = _member_or_404(membership_id)
    form = MemberRoleForm()
    form.role_id.choices = as_choices(_role_choices())
    if not form.validate_on_submit():
        return _member_row(member, 422)
    try:
        services.change_member_role(g.viewer, member, team.get_role(uuid.UUID(form.role_id.data)), client_info())
    except team.TeamError as error:
        flash(str(error), "error")
        return _member_row(member, 422)
    flash(_("%(name)s is now %(role)s.", name=member.user.name, role=role_label(member.role)), "success")
    return _member_row(member)


@bp.post("/members/<uuid:membership_id>/<any(deactivate, reactivate):action>")
@require("admin.users")
def set_active(membership_id, action):
    """Deactivate a member (their access ends at once) or bring them back."""
    member = _member_or_404(membership_id)
    try:
        services.set_member_active(g.viewer, member, action == "reactivate", client_info())
    except team.TeamError as error:
        flash(str(error), "error")
        return _member_row(member, 422)
    message = _("%(name)s can use the organisation again.") if member.active else _("%(name)s no longer has access.")
    flash(message % {"name": member.user.name}, "success")
    return _member_row(member)


@bp.post("/invitations")
@require("admin.users")
def invite():
    """Invite someone by e-mail with a role."""
    form = InviteForm()
    form.role_id.choices = as_choices(_role_choices())
    if not form.validate_on_submit():
        return _team_page(form, 422, "invite_form")
    role = team.get_role(uuid.UUID(form.role_id.data))
    expires_at = utcnow() + current_app.config["INVITATION_MAX_AGE"]
    try:
        token = services.invite_member(g.viewer, form.email.data, role, expires_at, client_info())
    except team.TeamError as error:
        form.email.errors.append(str(error))
        return _team_page(form, 422, "invite_form")
    send_invitation_mail(form.email.data.strip().lower(), token, g.tenant.name, current_user.name)
    flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    return redirect_to(url_for(".members"))


@bp.post("/invitations/<uuid:invitation_id>/revoke")
@require("admin.users")
def revoke_invitation(invitation_id):
    """Withdraw an invitation; its link stops working."""
    invitation = team.get_invitation(invitation_id) or abort(404)
    services.revoke_invitation(g.viewer, invitation, client_info())
    flash(_("The invitation to %(email)s was withdrawn.", email=invitation.email), "success")
    return redirect_to(url_for(".members"))


def _logo_change(form) -> dict:
    """The logo to store: a new one uploaded, none when removed, else unchanged (nothing to write)."""
    if getattr(form, "logo_png", None):
        return {"logo": form.logo_png}
    return {"logo": None} if form.remove_logo.data else {}


@bp.route("/settings", methods=["GET", "POST"])
@require("admin.settings")
def settings():
    """Change the organisation's name, document language, time zone, customers' default folders and reminders."""
    tenant = g.tenant
    form = SettingsForm(name=tenant.name, locale=tenant.locale, timezone=tenant.timezone,
                        document_folders="\n".join(tenant.document_folders or []),
                        call_outcomes="\n".join(tenant.call_outcomes or []), reminder_minutes=str(tenant.reminder_minutes),
                        agenda_kinds=tenant.agenda_kinds or [], currency=tenant.currency, payment_days=tenant.payment_days,
                        dunning_days=", ".join(str(d) for d in levels(tenant)), legal_details=tenant.legal_details,
                        require_two_factor=tenant.require_two_factor)
    if form.validate_on_submit():
        services.update_settings(g.viewer, g.tenant, form.name.data, form.locale.data, form.timezone.data,
                                 client_info(), document_folders=form.folder_list(), call_outcomes=form.outcome_list(),
                                 reminder_minutes=int(form.reminder_minutes.data), agenda_kinds=form.agenda_kinds.data or None,
                                 currency=form.currency.data, payment_days=form.payment_days.data or 0,
                                 dunning_days=stored_levels(form.dunning_list()), legal_details=(form.legal_details.data or "").strip(),
                                 require_two_factor=form.require_two_factor.data, **_logo_change(form))
        flash(_("The settings have been saved."), "success")
        return redirect_to(url_for(".settings"))
    return render_page("admin/settings.html", "settings_form", form=form, status=422 if form.is_submitted() else 200,
                       has_logo=services.has_logo(),
                       default_folders=", ".join(str(name) for name in DEFAULT_FOLDERS),
                       default_outcomes=", ".join(str(name) for name in OUTCOMES))
