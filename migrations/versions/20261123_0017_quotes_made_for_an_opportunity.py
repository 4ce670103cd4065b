"""Quotes made for an opportunity

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 23:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite cannot add a table constraint to an existing table: batch mode rebuilds it there (PostgreSQL alters it).
    with op.batch_alter_table('sales_document') as batch_op:
        batch_op.add_column(sa.Column('opportunity_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_sales_document_tenant_id_opportunity_id_opportunity'), 'opportunity',
                                    ['tenant_id', 'opportunity_id'], ['tenant_id', 'id'])
        batch_op.create_index('ix_sales_document_opportunity', ['tenant_id', 'opportunity_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sales_document') as batch_op:
        batch_op.drop_index('ix_sales_document_opportunity')
        batch_op.drop_constraint(op.f('fk_sales_document_tenant_id_opportunity_id_opportunity'), type_='foreignkey')
        batch_op.drop_column('opportunity_id')
