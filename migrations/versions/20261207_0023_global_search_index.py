"""Global search index

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:30:00

One row per normalised word of each searchable record (``search_term``, kept by ``app.search_index``), keyed by
tenant like every tenant table, with row-level security. The terms are text in byte order (collation "C") so that a
prefix is a range ``term >= 'soc' AND term < 'sod'``: ``>=``/``<`` on text are leakproof, so PostgreSQL serves that
range from the btree ``ix_search_term_lookup`` under forced RLS. See docs/architecture.md, "Global search".

The records that exist when this runs are indexed by ``flask search rebuild`` (``flask demo`` runs it for the demo
organisations): the providers that say what to index live in the domains and change with them, which a migration
must not depend on.
"""
import sqlalchemy as sa
from alembic import op

from app.db_security import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

TERM = sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")


def upgrade():
    op.create_table('search_term',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('term', TERM, nullable=False),
    sa.Column('weight', sa.SmallInteger(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=True),
    sa.Column('private_to_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_search_term_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_search_term'))
    )
    op.create_index('ix_search_term_lookup', 'search_term', ['tenant_id', 'kind', 'term', 'record_id'], unique=False,
                    postgresql_include=['weight', 'thirdparty_id', 'private_to_id'])
    op.create_index('ix_search_term_record', 'search_term', ['tenant_id', 'record_id', 'term'], unique=False)
    enable_tenant_rls('search_term')


def downgrade():
    op.drop_index('ix_search_term_record', table_name='search_term')
    op.drop_index('ix_search_term_lookup', table_name='search_term')
    op.drop_table('search_term')
