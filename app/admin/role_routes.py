"""Roles and groups: which rights each gives."""
from flask import abort, flash, g, url_for
from flask_babel import gettext as _

from app import grants
from app.admin import bp, roles
from app.admin.forms import GroupForm, RoleForm
from app.audit.web import client_info
from app.forms import as_choices
from app.htmx import redirect_to, render_page
from app.models import Group
from app.permissions import AREAS, RIGHTS, require
from app.team import TeamError, get_role, list_members


def _rights_by_area() -> list[tuple[str, list[tuple[str, str]]]]:
    grouped = {area: [] for area in AREAS}
    for key, label in RIGHTS.items():
        grouped[key.split(".")[0]].append((key, label))
    return [(AREAS[area], items) for area, items in grouped.items()]


@bp.get("/roles")
@require("admin.roles")
def roles_index():
    """List the roles and the groups."""
    listed_roles, groups = roles.list_roles(), roles.list_groups()
    return render_page("admin/roles.html", roles=listed_roles, groups=groups,
                       locked={item.id: problem for item in [r for r, _n in listed_roles] + groups
                               if (problem := _problem(item))})


def _problem(item) -> str | None:
    """Why the viewer may not change this role or group (shown instead of its buttons), or None."""
    return grants.group_problem(g.viewer, item) if isinstance(item, Group) else grants.role_problem(g.viewer, item)


@bp.route("/roles/new", methods=["GET", "POST"], defaults={"role_id": None})
@bp.route("/roles/<uuid:role_id>/edit", methods=["GET", "POST"])
@require("admin.roles")
def edit_role(role_id):
    """Create a role, or change the rights of one."""
    role = get_role(role_id) or abort(404) if role_id else None
    form = RoleForm(obj=role)
    if form.validate_on_submit() and roles.role_name_taken(form.name.data, except_id=role_id) and not (role and role.key):
        form.name.errors.append(_("A role with this name already exists."))
    elif form.validate_on_submit():
        try:
            if role is None:
                roles.create_role(g.viewer, form.name.data, form.description.data, form.rights.data, client_info())
            else:
                roles.update_role(g.viewer, role, form.name.data, form.description.data, form.rights.data,
                                  client_info())
        except TeamError as error:
            flash(str(error), "error")
        else:
            flash(_("The role has been saved."), "success")
            return redirect_to(url_for(".roles_index"))
    return render_page("admin/role_form.html", "rights_form", form=form, role=role, areas=_rights_by_area(),
                       status=422 if form.is_submitted() else 200, locked=_problem(role) if role else None)


@bp.post("/roles/<uuid:role_id>/delete")
@require("admin.roles")
def delete_role(role_id):
    """Delete a custom role nobody holds."""
    role = get_role(role_id) or abort(404)
    try:
        roles.delete_role(g.viewer, role, client_info())
        flash(_("The role has been deleted."), "success")
    except TeamError as error:
        flash(str(error), "error")
    return redirect_to(url_for(".roles_index"))


@bp.route("/groups/new", methods=["GET", "POST"], defaults={"group_id": None})
@bp.route("/groups/<uuid:group_id>/edit", methods=["GET", "POST"])
@require("admin.roles")
def edit_group(group_id):
    """Create a group, or change its rights and members."""
    group = roles.get_group(group_id) or abort(404) if group_id else None
    form = GroupForm(obj=group)
    if not form.is_submitted():  # obj's `members` (link rows) would otherwise fill the checkboxes
        form.members.data = [str(m.membership_id) for m in group.members] if group else []
    form.members.choices = as_choices((m.id, f"{m.user.name} <{m.user.email}>") for m in list_members()
                                      if m.active and (m.id != g.viewer.membership_id or g.viewer.is_owner))
    if form.validate_on_submit() and roles.group_name_taken(form.name.data, except_id=group_id):
        form.name.errors.append(_("A group with this name already exists."))
    elif form.validate_on_submit():
        roles.save_group(g.viewer, group, name=form.name.data, description=form.description.data,
                         rights=form.rights.data, member_ids=form.members.data, client=client_info())
        flash(_("The group has been saved."), "success")
        return redirect_to(url_for(".roles_index"))
    return render_page("admin/group_form.html", "rights_form", form=form, group=group, areas=_rights_by_area(),
                       status=422 if form.is_submitted() else 200, locked=_problem(group) if group else None)


@bp.post("/groups/<uuid:group_id>/delete")
@require("admin.roles")
def delete_group(group_id):
    """Delete a group; its members keep their role."""
    group = roles.get_group(group_id) or abort(404)
    roles.delete_group(g.viewer, group, client_info())
    flash(_("The group has been deleted."), "success")
    return redirect_to(url_for(".roles_index"))
