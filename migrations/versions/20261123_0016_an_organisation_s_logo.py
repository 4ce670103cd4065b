"""An organisation's logo on its quotes and invoices

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 23:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tenant', sa.Column('logo', sa.LargeBinary(), nullable=True))


def downgrade():
    op.drop_column('tenant', 'logo')
