"""A tenant's data version: bumped by every transaction that writes its data (the page cache's key)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 01:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tenant', sa.Column('data_version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('tenant', 'data_version')
