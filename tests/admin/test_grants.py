"""Who may grant what (issue 13, finding 2): nobody grants a right they do not hold, edits the role or groups they
are in, or raises a member above themselves — for roles, groups, members and invitations.

``test_no_admin_write_raises_anyone_beyond_the_actor`` walks every admin write of the access spec as every built-in
role and as a custom role holding each admin right alone, each with the payloads an escalating member would send, and
checks afterwards that nobody (the actor included) holds a right that neither they nor the actor held before.
"""
import uuid

import pytest
from sqlalchemy import select

from app.admin.roles import create_role, save_group
from app.extensions import db
from app.models import Group, Invitation, Membership, Role, SecurityEvent
from app.permissions import ALL_RIGHTS, load_viewers
from app.tenancy import tenant_context
from tests.access_spec import SPEC
from tests.customers import viewer_for
from tests.factories import CLIENT, add_member, make_tenant, make_user, membership_id, role_id
from tests.helpers import Browser

ADMIN_RIGHTS = sorted(r for r in ALL_RIGHTS if r.startswith("admin.") or r == "audit.read")
FINANCE = ["invoice.read", "invoice.create", "invoice.validate", "payment.read", "payment.create"]
# The admin writes: every POST route of the spec under /admin (the walk below fails when a new one has no payload).
ADMIN_WRITES = sorted({r.endpoint for r in SPEC if r.tenant and "POST" in r.methods and "/admin/" in r.rule})


class Team:
    """An organisation with an owner, a boss (administrator), a peer (sales, in the Finance group), a narrow
    custom role, and the actor under test."""

    def __init__(self, app, actor_role: str | list[str]):
        self.app = app
        self.tenant = make_tenant(app, name="Grants & Co")
        owner = viewer_for(app, self.tenant, self.tenant.owner)
        self.boss, self.peer, self.actor = make_user(app, name="Boss"), make_user(app, name="Peer"), make_user(app)
        add_member(app, self.tenant, self.boss, role="admin")
        add_member(app, self.tenant, self.peer, role="sales")
        with app.app_context(), tenant_context(self.tenant.id):
            self.narrow = create_role(owner, "Narrow", "", ["thirdparty.read"], CLIENT).id
            custom = create_role(owner, "Actor role", "", actor_role, CLIENT).id if isinstance(actor_role, list) else None
        add_member(app, self.tenant, self.actor, role="sales")
        self.actor_role = custom or role_id(app, self.tenant, actor_role)
        with app.app_context(), tenant_context(self.tenant.id):
            member = db.session.scalar(select(Membership).where(Membership.user_id == self.actor.id))
            member.role_id = self.actor_role
            db.session.commit()
            self.finance = save_group(owner, None, name="Finance", description="", rights=FINANCE,
                                      member_ids=[membership_id(app, self.tenant, self.peer)], client=CLIENT).id
        self.browser = Browser(app.test_client())
        self.browser.login(self.actor.email)

    def mid(self, user):
        return membership_id(self.app, self.tenant, user)

    def url(self, path: str) -> str:
        return f"/{self.tenant.slug}/admin/{path}"

    def state(self) -> dict:
        """Everyone's rights, every role's and group's, the open invitations' and who is active, read by the owner."""
        with self.app.app_context(), tenant_context(self.tenant.id):
            return {
                "members": {m.user_id: (frozenset(v.rights), m.role_id, m.active) for m, v in load_viewers()},
                "roles": {r.id: frozenset(r.rights) for r in db.session.scalars(select(Role)) if not r.is_owner},
                "groups": {g.id: (frozenset(g.rights), frozenset(m.membership_id for m in g.members))
                           for g in db.session.scalars(select(Group))},
                "invited": [frozenset(ALL_RIGHTS) if i.role.is_owner else frozenset(i.role.rights)
                            for i in db.session.scalars(select(Invitation))],
            }

    def attempts(self, endpoint: str) -> list[tuple[str, dict]]:
        """What a member out to raise themselves (or a friend) would post to ``endpoint``."""
        admin, owner_role = role_id(self.app, self.tenant, "admin"), role_id(self.app, self.tenant, "owner")
        me, peer, boss = self.mid(self.actor), self.mid(self.peer), self.mid(self.boss)
        everything = {"name": "Everything", "description": "", "rights": list(ALL_RIGHTS)}
        return {
            "tenant.admin.edit_role": [
                (f"roles/{self.actor_role}/edit", {**everything, "name": "Actor role"}),  # the reported hole
                (f"roles/{role_id(self.app, self.tenant, 'sales')}/edit", {**everything, "name": "sales"}),
                (f"roles/{self.narrow}/edit", {**everything, "name": "Narrow"}),
                ("roles/new", everything),
            ],
            "tenant.admin.delete_role": [(f"roles/{self.narrow}/delete", {})],
            "tenant.admin.edit_group": [
                (f"groups/{self.finance}/edit", {"name": "Finance", "rights": list(ALL_RIGHTS), "members": [str(me), str(peer)]}),
                ("groups/new", {"name": "Backdoor", "rights": list(ALL_RIGHTS), "members": [str(me)]}),
                ("groups/new", {"name": "Friends", "rights": list(ALL_RIGHTS), "members": [str(peer)]}),
            ],
            "tenant.admin.delete_group": [(f"groups/{self.finance}/delete", {})],
            "tenant.admin.change_role": [
                (f"members/{me}/role", {"role_id": str(admin)}),
                (f"members/{me}/role", {"role_id": str(owner_role)}),
                (f"members/{peer}/role", {"role_id": str(admin)}),
                (f"members/{boss}/role", {"role_id": str(role_id(self.app, self.tenant, "readonly"))}),
            ],
            "tenant.admin.set_active": [(f"members/{boss}/deactivate", {})],
            "tenant.admin.invite": [("invitations", {"email": "friend@example.com", "role_id": str(admin)})],
            # Single sign-on: whoever joins through it gets its default role (the role rules: tests/sso).
            "tenant.sso_admin.edit": [("sso", {"enabled": "y", "issuer": "http://127.0.0.1:9", "client_id": "c",
                                               "client_secret": "s", "allowed_domains": "grants.example",
                                               "auto_join": "y", "default_role_id": str(role)})
                                      for role in (admin, owner_role)],
        }.get(endpoint, [])


def _gained(before, after) -> frozenset:
    return after - before


ACTORS = ["owner", "admin", "sales", "support", "accounting", "readonly",
          *[f"only {right}" for right in ADMIN_RIGHTS]]


def _actor_role(actor: str):
    return ["thirdparty.read", actor.removeprefix("only ")] if actor.startswith("only ") else actor


@pytest.mark.parametrize("actor", ACTORS)
def test_no_admin_write_raises_anyone_beyond_the_actor(app, actor):
    team = Team(app, _actor_role(actor))
    if actor == "owner":  # a second owner: every right, the owner rules still apply
        with app.app_context(), tenant_context(team.tenant.id):
            db.session.scalar(select(Membership).where(Membership.user_id == team.actor.id)).role_id = \
                role_id(app, team.tenant, "owner")
            db.session.commit()
    before = team.state()
    held = before["members"][team.actor.id][0]
    for endpoint in ADMIN_WRITES:
        for path, form in team.attempts(endpoint):
            response = team.browser.post(team.url(path), form)
            assert response.status_code < 500, (endpoint, path, response.status_code)
    after = team.state()

    for user_id, (rights, role, active) in after["members"].items():
        old_rights, old_role, old_active = before["members"][user_id]
        assert _gained(old_rights, rights) <= held, f"{user_id} gained {_gained(old_rights, rights) - held}"
        if not old_rights <= held:  # someone above the actor: untouched
            assert (rights, role, active) == (old_rights, old_role, old_active)
    assert after["members"][team.actor.id][0] <= held, "the actor raised themselves"
    for role, rights in after["roles"].items():
        assert _gained(before["roles"].get(role, frozenset()), rights) <= held, ("role", role)
    for group, (rights, _members) in after["groups"].items():
        assert _gained(before["groups"].get(group, (frozenset(), None))[0], rights) <= held, ("group", group)
    assert all(rights <= held for rights in after["invited"])


def test_every_admin_write_has_escalation_payloads(app):
    """A new admin write must say how one would try to escalate through it (or that it cannot grant anything)."""
    team = Team(app, "admin")
    cannot_grant = {f"tenant.admin.{name}" for name in (
        "revoke_invitation", "settings", "create_tag", "delete_tag", "create_field", "edit_field", "delete_field",
        "update_numbering",
        "reset_two_factor")}  # removes a member's second factor, grants nothing (who may: tests/auth/test_two_factor.py)
    assert [e for e in ADMIN_WRITES if not team.attempts(e) and e not in cannot_grant] == []


def test_a_role_manager_cannot_give_their_own_role_every_right(app):
    """The probe's finding: a custom role holding only admin.roles (+ thirdparty.read) edits itself → 403, logged."""
    team = Team(app, ["admin.roles", "thirdparty.read"])
    response = team.browser.post(team.url(f"roles/{team.actor_role}/edit"),
                                 {"name": "Actor role", "rights": list(ALL_RIGHTS)})
    assert response.status_code == 403
    assert "You cannot change the role you hold yourself" in response.get_data(as_text=True)
    for page in ("members", "settings", "security-log", "audit"):
        assert team.browser.get(team.url(page)).status_code == 403, page
    with app.app_context(), tenant_context(team.tenant.id):
        assert db.session.get(Role, (team.tenant.id, team.actor_role)).rights == ["admin.roles", "thirdparty.read"]
        events = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "access_denied")).all()
    assert any("hold yourself" in (e.detail or {}).get("reason", "") for e in events)


def test_a_role_manager_gives_what_they_hold(app):
    """What the rules allow still works: a role of held rights, and a group of held rights for someone else."""
    team = Team(app, ["admin.roles", "thirdparty.read", "note.create"])
    assert team.browser.post(team.url("roles/new"), {"name": "Notes", "rights": ["note.create"]}).status_code == 303
    form = {"name": "Readers", "rights": ["thirdparty.read"], "members": [str(team.mid(team.peer))]}
    assert team.browser.post(team.url("groups/new"), form).status_code == 303
    refused = team.browser.post(team.url("roles/new"), {"name": "More", "rights": ["note.create", "invoice.read"]})
    assert refused.status_code == 403 and "only give rights you hold" in refused.get_data(as_text=True)


def test_a_user_manager_manages_only_members_within_their_rights(app):
    team = Team(app, ["admin.users", "thirdparty.read"])
    page = team.browser.get(team.url("members")).get_data(as_text=True)
    assert f'id="role-{team.mid(team.peer)}"' not in page  # the peer (sales) has rights the actor lacks
    assert "Has rights you do not hold" in page
    refused = team.browser.post(team.url(f"members/{team.mid(team.peer)}/role"), {"role_id": str(team.narrow)})
    assert refused.status_code == 403  # lowering someone above oneself is acting on them too
    assert team.browser.post(team.url("invitations"), {"email": "n@example.com", "role_id": str(team.narrow)}
                             ).status_code == 303  # Narrow gives only thirdparty.read: allowed
    offered = team.browser.get(team.url("members")).get_data(as_text=True)
    assert f'value="{team.narrow}"' in offered and f'value="{role_id(app, team.tenant, "admin")}"' not in offered


def test_the_role_form_greys_out_rights_the_manager_does_not_hold(app):
    team = Team(app, ["admin.roles", "thirdparty.read"])
    page = team.browser.get(team.url("roles/new")).get_data(as_text=True)
    assert 'value="thirdparty.read"' in page and "disabled" in page.split('value="invoice.read"')[1][:120]
    own = team.browser.get(team.url(f"roles/{team.actor_role}/edit")).get_data(as_text=True)
    assert "You cannot change the role you hold yourself" in own and "Save the role" not in own


def test_other_tenants_are_not_involved(app):
    """The rules read the organisation in scope only (a sanity check on the shared helpers)."""
    team, other = Team(app, "admin"), make_tenant(app)
    with app.app_context(), tenant_context(other.id):
        assert db.session.scalar(select(Role.id).where(Role.id == team.actor_role)) is None
    assert uuid.UUID(str(team.actor_role))
