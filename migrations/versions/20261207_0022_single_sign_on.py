"""Single sign-on (OpenID Connect)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:05:00

An organisation's own OpenID provider (a tenant table with row-level security, its client secret encrypted), the
global index of the e-mail domains enabled providers sign in (looked up before any organisation is known), and
people's linked identities, ``(issuer, subject)`` (global: an identity belongs to an account, not to an
organisation). See docs/architecture.md, "Single sign-on".
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db_security import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sso_provider',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret', sa.String(length=1000), nullable=False),
    sa.Column('endpoints', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('allowed_domains', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('auto_join', sa.Boolean(), nullable=False),
    sa.Column('default_role_id', sa.Uuid(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sso_provider_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_sso_provider')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_sso_provider_tenant_id'))
    )
    enable_tenant_rls('sso_provider')
    op.create_table('sso_domain',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['tenant.id'], name=op.f('fk_sso_domain_organisation_id_tenant'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain', 'organisation_id', name=op.f('pk_sso_domain'))
    )
    op.create_index(op.f('ix_sso_domain_organisation_id'), 'sso_domain', ['organisation_id'], unique=False)
    op.create_table('sso_identity',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('provider_key', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sso_identity_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_sso_identity_issuer_subject'))
    )
    op.create_index('ix_sso_identity_user', 'sso_identity', ['user_id'], unique=False)


def downgrade():
    op.drop_index('ix_sso_identity_user', table_name='sso_identity')
    op.drop_table('sso_identity')
    op.drop_index(op.f('ix_sso_domain_organisation_id'), table_name='sso_domain')
    op.drop_table('sso_domain')
    op.drop_table('sso_provider')
