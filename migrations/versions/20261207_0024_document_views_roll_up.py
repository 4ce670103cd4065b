"""Document views roll up: one timeline line per document

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 22:40:00

Every preview and download of a document used to add a "Document viewed" (or "downloaded") event to the customer's
timeline. Each view stays in the document's own history (``document_access``, shown on the document page); the
timeline keeps one roll-up line per document ("viewed 12 times by 3 people", at the last view), replaced as views
happen (``app.timeline.rollups``).

* ``ix_timeline_subject``: the events of one subject, found without walking the customer's timeline.
* ``storia_drop_rollup(id)``: the timeline stays append-only for the app role; this security-definer function deletes
  one row only if it is a roll-up line (``payload ? 'rollup'``) of the tenant in scope (the RLS policy applies too).
* The view events already recorded become roll-up lines, computed from ``document_access`` (which holds every view:
  it was written beside each event), so old timelines stop being cluttered and no count is lost.
"""
import sqlalchemy as sa
from alembic import op

from app.db_security import _quote, app_role
from app.models.base import JSONType, UTCDateTime, new_id

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

OLD_KINDS = ("document_previewed", "document_downloaded")

DROP_ROLLUP = """
CREATE FUNCTION storia_drop_rollup(event_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  DELETE FROM public.timeline_event
   WHERE id = event_id AND payload ? 'rollup'
     AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
$$
"""

tenant = sa.table("tenant", sa.column("id", sa.Uuid()))
document = sa.table("document", sa.column("tenant_id", sa.Uuid()), sa.column("id", sa.Uuid()),
                    sa.column("thirdparty_id", sa.Uuid()), sa.column("contact_id", sa.Uuid()),
                    sa.column("name", sa.String()))
access = sa.table("document_access", sa.column("tenant_id", sa.Uuid()), sa.column("document_id", sa.Uuid()),
                  sa.column("user_id", sa.Uuid()), sa.column("occurred_at", UTCDateTime()))
event = sa.table("timeline_event", sa.column("tenant_id", sa.Uuid()), sa.column("id", sa.Uuid()),
                 sa.column("thirdparty_id", sa.Uuid()), sa.column("contact_id", sa.Uuid()),
                 sa.column("occurred_at", UTCDateTime()), sa.column("kind", sa.String()),
                 sa.column("subject_type", sa.String()), sa.column("subject_id", sa.Uuid()),
                 sa.column("actor_id", sa.Uuid()), sa.column("title", sa.String()), sa.column("body", sa.Text()),
                 sa.column("payload", JSONType), sa.column("required_right", sa.String()),
                 sa.column("private_to_id", sa.Uuid()))


def upgrade():
    op.create_index('ix_timeline_subject', 'timeline_event', ['tenant_id', 'subject_id'], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(DROP_ROLLUP)
        op.execute("REVOKE ALL ON FUNCTION storia_drop_rollup(uuid) FROM PUBLIC")
        role = app_role()
        if role:
            op.execute(f"GRANT EXECUTE ON FUNCTION storia_drop_rollup(uuid) TO {_quote(role)}")
    _roll_up_views(postgres)


def _roll_up_views(postgres: bool) -> None:
    """Each organisation's view events become one line per document (under its own RLS scope)."""
    bind = op.get_bind()
    for (tenant_id,) in bind.execute(sa.select(tenant.c.id)).all():
        if postgres:
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        # The old events go, and any line already there (run again, it counts again from the history).
        bind.execute(event.delete().where(event.c.tenant_id == tenant_id, event.c.kind.in_((*OLD_KINDS, "document_views"))))
        totals = bind.execute(
            sa.select(access.c.document_id, sa.func.count(), sa.func.count(sa.distinct(access.c.user_id)))
            .where(access.c.tenant_id == tenant_id).group_by(access.c.document_id)).all()
        for document_id, views, people in totals:
            doc = bind.execute(sa.select(document.c.thirdparty_id, document.c.contact_id, document.c.name).where(
                document.c.tenant_id == tenant_id, document.c.id == document_id)).first()
            last = bind.execute(sa.select(access.c.user_id, access.c.occurred_at).where(
                access.c.tenant_id == tenant_id, access.c.document_id == document_id)
                .order_by(access.c.occurred_at.desc()).limit(1)).first()
            if doc is None or last is None:
                continue
            key = f"document_views:{document_id}"
            bind.execute(event.insert().values(
                tenant_id=tenant_id, id=new_id(), thirdparty_id=doc.thirdparty_id, contact_id=doc.contact_id,
                occurred_at=last.occurred_at, kind="document_views", subject_type="document", subject_id=document_id,
                actor_id=last.user_id, title=doc.name[:300], body="", required_right="document.read",
                payload={"views": views, "people": people, "rollup": key}, private_to_id=None))
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade():
    # The roll-up lines stay (the separate view events are not made up again: each view is in document_access).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION storia_drop_rollup(uuid)")
    op.drop_index('ix_timeline_subject', table_name='timeline_event')
