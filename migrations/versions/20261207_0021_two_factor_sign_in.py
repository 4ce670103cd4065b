"""Two-factor sign-in

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:00:00

A person's authenticator (its secret encrypted), one-time recovery codes and remembered devices (kept as keyed
hashes): global tables, since a second factor belongs to the account, not to an organisation. An organisation may
require its members to use it (``tenant.require_two_factor``). See docs/architecture.md, "Two-factor sign-in".
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('two_factor',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_two_factor_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_two_factor'))
    )
    op.create_table('recovery_code',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    op.create_index('ix_recovery_code_user_hash', 'recovery_code', ['user_id', 'code_hash'], unique=True)
    op.create_table('remembered_device',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_remembered_device_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remembered_device')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_remembered_device_token_hash'))
    )
    op.create_index(op.f('ix_remembered_device_user_id'), 'remembered_device', ['user_id'], unique=False)
    op.add_column('tenant', sa.Column('require_two_factor', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('tenant', 'require_two_factor')
    op.drop_index(op.f('ix_remembered_device_user_id'), table_name='remembered_device')
    op.drop_table('remembered_device')
    op.drop_index('ix_recovery_code_user_hash', table_name='recovery_code')
    op.drop_table('recovery_code')
    op.drop_table('two_factor')
