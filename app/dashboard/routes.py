"""The organisation's home page: where to start, and the state of the team."""
from flask import g, session

from app.admin.services import list_open_invitations
from app.dashboard import bp
from app.htmx import render_page
from app.team import list_members
from app.thirdparties.services import count_visible
from app.timeline.services import recent_events


@bp.get("/")
def index():
    """Show the organisation's home."""
    session["last_tenant"] = g.tenant.slug
    members = list_members()
    readable = g.viewer.can("thirdparty.read")
    return render_page("dashboard/index.html", members=members,
                       active_members=sum(m.active for m in members),
                       open_invitations=len(list_open_invitations()),
                       customers=count_visible(g.viewer) if readable else None,
                       recent=recent_events(g.viewer) if readable else [])
