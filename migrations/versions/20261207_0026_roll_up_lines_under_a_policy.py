"""Roll-up lines are deleted under a row policy, not through a security-definer function

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 23:20:00

Migration 0024 let the app drop a document's previous roll-up line through ``storia_drop_rollup``, a SECURITY DEFINER
function. The house rule (tests/test_postgres.py) is that no function runs with its owner's rights over tenant tables:
one forgotten check in such a function and row-level security is gone. The same narrow exception is now said by the
database itself: the app role may DELETE from ``timeline_event``, and a RESTRICTIVE policy for that role lets its
DELETE reach only a row marked as a roll-up (``payload ? 'rollup'``), on top of the tenant policy every statement already meets. UPDATE
stays revoked: an event, once written, never changes.
"""
from alembic import op

from app.db_security import _quote, app_role

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

POLICY = "timeline_delete_rollups_only"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS storia_drop_rollup(uuid)")
    role = app_role()
    if role:  # without an app role the app runs as the owner, and nothing was revoked (make_append_only)
        op.execute(f"CREATE POLICY {POLICY} ON timeline_event AS RESTRICTIVE FOR DELETE TO {_quote(role)} "
                   "USING (payload ? 'rollup')")
        op.execute(f"GRANT DELETE ON timeline_event TO {_quote(role)}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    if role:
        op.execute(f"REVOKE DELETE ON timeline_event FROM {_quote(role)}")
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON timeline_event")
    op.execute("""
CREATE FUNCTION storia_drop_rollup(event_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  DELETE FROM public.timeline_event
   WHERE id = event_id AND payload ? 'rollup'
     AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
$$
""")
    op.execute("REVOKE ALL ON FUNCTION storia_drop_rollup(uuid) FROM PUBLIC")
    if role:
        op.execute(f"GRANT EXECUTE ON FUNCTION storia_drop_rollup(uuid) TO {_quote(role)}")
