"""Seal every column of an audit entry: a hash version per entry (1: before id and ip were sealed)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:30:00

Entries already written keep version 1 and verify as they did; new ones are sealed with version 2,
whose hash covers every column (docs/architecture.md, "Audit log").
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_entry', sa.Column('hash_version', sa.SmallInteger(), server_default='1', nullable=False))


def downgrade():
    op.drop_column('audit_entry', 'hash_version')
