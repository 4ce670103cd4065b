"""Search documents by name and description with one trigram index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:40:00

The finder matches ``name || ' ' || description`` (app.documents.services.SEARCHED), one ILIKE
instead of two. Under forced row-level security the app's role cannot use a trigram index (ILIKE is
not leakproof; docs/benchmarks.md), so for now this index serves direct SQL and the search redesign.
"""
from alembic import op

from app.db_security import trigram_index

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_name_trgm")
    trigram_index("document", "text", "name || ' ' || description")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_text_trgm")
    trigram_index("document", "name")
