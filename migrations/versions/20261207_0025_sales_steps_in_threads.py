"""Sales steps name their thread

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 22:50:00

The customer's timeline groups the steps of a sales chain (quote → order → shipment → invoice → payment) under the
chain's first document: each step's event carries ``payload.thread`` = {key, kind, id, label} of that document, written
by the sales domain as it records the step, with the right that reads that document (``app.sales.queries.thread_of``). This gives the events recorded before
it theirs, computed from ``sales_document.source_id`` (a payment joins the chain of the first invoice it settled).
No column and no index change: the timeline groups what one page holds (docs/architecture.md, "Timeline groups").
"""
import sqlalchemy as sa
from alembic import op

from app.models.base import JSONType

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

SALES_SUBJECTS = ("quote", "order", "invoice", "credit_note", "contract", "payment")
# The right that reads each kind of first document (app/sales/__init__.py's books, as they are at this revision).
READ_RIGHT = {"quote": "quote.read", "order": "order.read", "invoice": "invoice.read", "credit_note": "invoice.read",
              "contract": "contract.read"}

tenant = sa.table("tenant", sa.column("id", sa.Uuid()))
document = sa.table("sales_document", sa.column("tenant_id", sa.Uuid()), sa.column("id", sa.Uuid()),
                    sa.column("source_id", sa.Uuid()), sa.column("kind", sa.String()),
                    sa.column("number", sa.String()), sa.column("title", sa.String()))
share = sa.table("payment_share", sa.column("tenant_id", sa.Uuid()), sa.column("payment_id", sa.Uuid()),
                 sa.column("invoice_id", sa.Uuid()), sa.column("id", sa.Uuid()))
event = sa.table("timeline_event", sa.column("tenant_id", sa.Uuid()), sa.column("id", sa.Uuid()),
                 sa.column("subject_type", sa.String()), sa.column("subject_id", sa.Uuid()),
                 sa.column("payload", JSONType))


def upgrade():
    threads_for_recorded_steps(op.get_bind())


def threads_for_recorded_steps(bind) -> None:
    """Each organisation's sales events get ``payload.thread`` (under its own RLS scope); those that have one keep it."""
    postgres = bind.dialect.name == "postgresql"
    for (tenant_id,) in bind.execute(sa.select(tenant.c.id)).all():
        if postgres:
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        docs = {row.id: row for row in bind.execute(sa.select(document).where(document.c.tenant_id == tenant_id))}
        if not docs:
            continue
        invoice_of = {}
        for row in bind.execute(sa.select(share.c.payment_id, share.c.invoice_id).where(share.c.tenant_id == tenant_id)
                                .order_by(share.c.id)):
            invoice_of.setdefault(row.payment_id, row.invoice_id)

        steps = bind.execute(sa.select(event.c.id, event.c.subject_type, event.c.subject_id, event.c.payload).where(
            event.c.tenant_id == tenant_id, event.c.subject_type.in_(SALES_SUBJECTS))).all()
        for step in steps:
            payload = dict(step.payload or {})
            if payload.get("thread") or step.subject_id is None:
                continue
            found = _thread(docs, invoice_of.get(step.subject_id) if step.subject_type == "payment" else step.subject_id)
            if found:
                bind.execute(event.update().where(event.c.tenant_id == tenant_id, event.c.id == step.id)
                             .values(payload={**payload, "thread": found}))
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def _thread(docs: dict, doc_id) -> dict | None:
    """The thread of a document: its chain's first document (as ``app.sales.queries.thread_of`` says it)."""
    first, hops = docs.get(doc_id), 0
    if first is None:
        return None
    while first.source_id in docs and hops < 100:
        first, hops = docs[first.source_id], hops + 1
    return {"key": str(first.id), "kind": first.kind, "id": str(first.id), "label": first.number or first.title or "",
            "right": READ_RIGHT.get(first.kind)}


def downgrade():
    """The threads stay in the payloads: nothing reads them without this revision's code."""
