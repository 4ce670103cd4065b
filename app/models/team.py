"""A tenant's team: roles, memberships, groups and invitations."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.user import User


class Role(TenantScoped, Base):
    """A named set of rights; built-in roles carry a ``key`` and are seeded at sign-up."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    key: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(255), default="")
    rights: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_owner(self) -> bool:
        return self.key == "owner"


class Membership(TenantScoped, Base):
    """A user's place in a tenant, with one role and any number of groups."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        ForeignKeyConstraint(["tenant_id", "role_id"], ["role.tenant_id", "role.id"]),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[uuid.UUID]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]
    # Agenda reminders: how long before (None: the organisation's default, -1: never), and whether by e-mail too.
    reminder_minutes: Mapped[int | None]
    reminder_email: Mapped[bool] = mapped_column(default=True, server_default=true())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    role: Mapped[Role] = relationship(
        primaryjoin="and_(Role.tenant_id == Membership.tenant_id, foreign(Membership.role_id) == Role.id)",
        lazy="joined",
        innerjoin=True,
    )


class Group(TenantScoped, Base):
    """A team group that gives its rights to every member."""

    __tablename__ = "user_group"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(255), default="")
    rights: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["GroupMember"]] = relationship(
        primaryjoin="and_(GroupMember.tenant_id == Group.tenant_id, foreign(GroupMember.group_id) == Group.id)",
        cascade="all, delete-orphan",
        viewonly=False,
    )


class GroupMember(TenantScoped, Base):
    __tablename__ = "group_member"
    __table_args__ = (
        UniqueConstraint("tenant_id", "group_id", "membership_id"),
        ForeignKeyConstraint(["tenant_id", "group_id"], ["user_group.tenant_id", "user_group.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "membership_id"], ["membership.tenant_id", "membership.id"], ondelete="CASCADE"),
    )

    group_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]

    membership: Mapped[Membership] = relationship(
        primaryjoin="and_(Membership.tenant_id == GroupMember.tenant_id, foreign(GroupMember.membership_id) == Membership.id)",
        lazy="joined",
    )


class Invitation(TenantScoped, Base):
    """An e-mailed invitation to join the tenant with a role; single use, expiring."""

    __tablename__ = "invitation"
    __table_args__ = (ForeignKeyConstraint(["tenant_id", "role_id"], ["role.tenant_id", "role.id"]),)

    email: Mapped[str] = mapped_column(String(254))
    role_id: Mapped[uuid.UUID]
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    role: Mapped[Role] = relationship(
        primaryjoin="and_(Role.tenant_id == Invitation.tenant_id, foreign(Invitation.role_id) == Role.id)",
        lazy="joined",
    )
    invited_by: Mapped[User | None] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at
