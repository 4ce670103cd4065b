"""Single sign-on (OpenID Connect)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:05:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
