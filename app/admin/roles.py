"""Roles and groups of a tenant: the rights they give, and who is in which group."""
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import grants
from app.audit.services import ClientInfo, record_security_event
from app.extensions import db
from app.models import Group, GroupMember, Invitation, Membership, Role
from app.permissions import ALL_RIGHTS, Viewer
from app.team import TeamError


def _clean_rights(rights) -> list[str]:
    return sorted(set(rights) & set(ALL_RIGHTS))


def list_roles() -> list[tuple[Role, int]]:
    """Return every role with its number of members, built-in roles first."""
    counts = (
        select(Membership.role_id, func.count().label("n"))
        .where(Membership.active.is_(True)).group_by(Membership.role_id).subquery()
    )
    rows = db.session.execute(
        select(Role, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.role_id == Role.id)
        .order_by(Role.key.is_(None), Role.created_at)
    ).all()
    return [(role, count) for role, count in rows]


def role_name_taken(name: str, *, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(Role.id).where(func.lower(Role.name) == name.strip().lower())
    if except_id:
        stmt = stmt.where(Role.id != except_id)
    return db.session.scalar(stmt) is not None


def create_role(viewer: Viewer, name: str, description: str, rights, client: ClientInfo) -> Role:
    grants.check(grants.role_problem(viewer, None, _clean_rights(rights)))
    role = Role(name=name.strip(), description=description.strip(), rights=_clean_rights(rights))
    db.session.add(role)
    db.session.flush()
    record_security_event(viewer.tenant_id, "role_created", user_id=viewer.user_id, client=client, role=role.name)
    db.session.commit()
    return role


def update_role(viewer: Viewer, role: Role, name: str, description: str, rights, client: ClientInfo) -> None:
    """Change a role; the owner role keeps every right, built-in roles keep their name."""
    if role.is_owner:
        raise TeamError(_l("The owner role always has every right."))
    grants.check(grants.role_problem(viewer, role, _clean_rights(rights)))
    old_rights = set(role.rights)
    if role.key is None:
        role.name = name.strip()
    role.description = description.strip()
    role.rights = _clean_rights(rights)
    record_security_event(
        viewer.tenant_id, "role_updated", user_id=viewer.user_id, client=client, role=role.key or role.name,
        added=" ".join(sorted(set(role.rights) - old_rights)), removed=" ".join(sorted(old_rights - set(role.rights))),
    )
    db.session.commit()


def delete_role(viewer: Viewer, role: Role, client: ClientInfo) -> None:
    """Delete a custom role that nobody holds or is invited with."""
    if role.key is not None:
        raise TeamError(_l("Built-in roles cannot be deleted."))
    grants.check(grants.role_problem(viewer, role))
    in_use = db.session.scalar(select(Membership.id).where(Membership.role_id == role.id).limit(1)) or \
        db.session.scalar(select(Invitation.id).where(Invitation.role_id == role.id, Invitation.accepted_at.is_(None),
                                                      Invitation.revoked_at.is_(None)).limit(1))
    if in_use:
        raise TeamError(_l("Give its members another role first."))
    record_security_event(viewer.tenant_id, "role_deleted", user_id=viewer.user_id, client=client, role=role.name)
    db.session.delete(role)
    db.session.commit()


def list_groups() -> list[Group]:
    return db.session.scalars(select(Group).order_by(Group.name)).all()


def get_group(group_id: uuid.UUID) -> Group | None:
    return db.session.scalar(select(Group).where(Group.id == group_id))


def group_name_taken(name: str, *, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(Group.id).where(func.lower(Group.name) == name.strip().lower())
    if except_id:
        stmt = stmt.where(Group.id != except_id)
    return db.session.scalar(stmt) is not None


def save_group(viewer: Viewer, group: Group | None, *, name: str, description: str, rights,
               member_ids, client: ClientInfo) -> Group:
    """Create or change a group: its name, rights and members (ids of memberships of this tenant)."""
    kind = "group_updated" if group else "group_created"
    grants.check(grants.group_problem(viewer, group, _clean_rights(rights), member_ids))
    if group is None:
        group = Group()
        db.session.add(group)
    group.name, group.description, group.rights = name.strip(), description.strip(), _clean_rights(rights)
    ids = [uuid.UUID(str(value)) for value in member_ids]
    wanted = set(db.session.scalars(select(Membership.id).where(Membership.id.in_(ids))).all())
    current = {m.membership_id: m for m in group.members}
    for membership_id, link in current.items():
        if membership_id not in wanted:
            group.members.remove(link)
    for membership_id in wanted - set(current):
        group.members.append(GroupMember(membership_id=membership_id))
    db.session.flush()
    record_security_event(viewer.tenant_id, kind, user_id=viewer.user_id, client=client, group=group.name,
                          members=str(len(wanted)))
    db.session.commit()
    return group


def delete_group(viewer: Viewer, group: Group, client: ClientInfo) -> None:
    grants.check(grants.group_problem(viewer, group))
    record_security_event(viewer.tenant_id, "group_deleted", user_id=viewer.user_id, client=client, group=group.name)
    db.session.delete(group)
    db.session.commit()
