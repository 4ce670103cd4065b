"""Newest sales documents first, over several kinds

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23 23:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_sales_document_recent', 'sales_document', ['tenant_id', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_sales_document_recent', table_name='sales_document')
