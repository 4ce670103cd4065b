"""Who may grant what: the rules every write of the team's rights goes through.

Holding ``admin.roles`` or ``admin.users`` lets a member manage roles, groups and members — never beyond
themselves. Three rules, checked here and nowhere else (the views only hide what these refuse):

1. **A role or a group** may be created, changed or deleted only by someone who holds every right it gives,
   before and after the change, and who is not in it (the role they hold, a group they belong to).
2. **A member** may be given a role, deactivated or reactivated only by someone who holds every right that
   member has (role and groups) and every right of the new role; nobody changes their own role (owners
   excepted: they may step down while another owner remains) or adds themselves to a group.
3. **An invitation** may name only a role whose rights the inviter holds.

Owners hold every right, so the rules never stop them, except that the owner role itself is never edited
and only owners give or take it (``app/admin/services._check_owner_rules``). See docs/architecture.md,
"Who may grant what".
"""
from flask_babel import lazy_gettext as _l

from app.models import Group, Membership, Role
from app.permissions import ALL_RIGHTS, Viewer, load_viewer, load_viewers


class GrantRefused(Exception):
    """A change of rights the rules refuse; the message is shown to the user (and logged as a refusal)."""


def holds_all(viewer: Viewer, rights) -> bool:
    """True when ``viewer`` holds every right in ``rights`` (unknown names count as held: they give nothing)."""
    return viewer.is_owner or set(rights) & set(ALL_RIGHTS) <= viewer.rights


def not_held(viewer: Viewer, rights) -> list[str]:
    """The rights of ``rights`` that ``viewer`` does not hold, sorted."""
    return [] if viewer.is_owner else sorted(set(rights) & set(ALL_RIGHTS) - viewer.rights)


def role_problem(viewer: Viewer, role: Role | None, new_rights=()) -> str | None:
    """Why ``viewer`` may not create (``role`` None) or change ``role`` to ``new_rights`` — None when they may."""
    if role is not None and role.is_owner:
        return str(_l("The owner role always has every right."))
    if role is not None and not viewer.is_owner and role.id == viewer.role_id:
        return str(_l("You cannot change the role you hold yourself."))
    if not holds_all(viewer, [*(role.rights if role is not None else ()), *new_rights]):
        return str(_l("You can only give rights you hold yourself."))
    return None


def group_problem(viewer: Viewer, group: Group | None, new_rights=(), new_member_ids=()) -> str | None:
    """Why ``viewer`` may not create or change ``group`` (its rights and members) — None when they may."""
    mine = {str(viewer.membership_id)}
    if not viewer.is_owner and group is not None and str(viewer.membership_id) in {str(m.membership_id)
                                                                                   for m in group.members}:
        return str(_l("You cannot change a group you are in."))
    if not viewer.is_owner and mine & {str(m) for m in new_member_ids}:
        return str(_l("You cannot add yourself to a group."))
    if not holds_all(viewer, [*(group.rights if group is not None else ()), *new_rights]):
        return str(_l("You can only give rights you hold yourself."))
    return None


def may_act_on(viewer: Viewer, target: Viewer) -> bool:
    """Rule 2 on its own: ``viewer`` may act on the access of the member ``target`` (their role, status, second
    factor) — never their own unless an owner, an owner's only as an owner, and only someone holding nothing more."""
    if target.user_id == viewer.user_id:
        return viewer.is_owner
    if target.is_owner and not viewer.is_owner:
        return False
    return holds_all(viewer, target.rights)


def member_problem(viewer: Viewer, member: Membership, new_role: Role | None = None) -> str | None:
    """Why ``viewer`` may not change ``member``'s role (to ``new_role``) or status — None when they may."""
    if member.user_id == viewer.user_id and not viewer.is_owner:
        return str(_l("You cannot change your own access."))
    target = load_viewer(member.user_id)
    if target is not None and not may_act_on(viewer, target):
        return str(_l("%(name)s has rights you do not hold: ask an owner.", name=member.user.name))
    if new_role is not None and not holds_all(viewer, ALL_RIGHTS if new_role.is_owner else new_role.rights):
        return str(_l("You can only give rights you hold yourself."))
    return None


def manageable_members(viewer: Viewer) -> set:
    """Ids of the memberships whose role and status ``viewer`` may change (rule 2), in two queries."""
    return {member.id for member, target in load_viewers() if may_act_on(viewer, target)}


def invitation_problem(viewer: Viewer, role: Role) -> str | None:
    """Why ``viewer`` may not invite someone with ``role`` — None when they may."""
    return None if grantable(viewer, [role]) else str(_l("You can only give rights you hold yourself."))


def grantable(viewer: Viewer, roles) -> list[Role]:
    """The roles ``viewer`` may give (to a member or an invitation): those whose every right they hold."""
    return [role for role in roles if holds_all(viewer, ALL_RIGHTS if role.is_owner else role.rights)]


def check(problem: str | None) -> None:
    """:raise GrantRefused: when a rule above gave a reason."""
    if problem:
        raise GrantRefused(problem)

