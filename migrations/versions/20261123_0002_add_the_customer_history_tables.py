"""Add the customer history tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:37:27.524927

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.audit.chain import new_head
from app.db_security import enable_tenant_rls, make_append_only, trigram_index
from app.models.base import new_id

TENANT_TABLES = (
    "audit_entry", "audit_head", "counter", "custom_field", "tag", "thirdparty", "address", "contact",
    "thirdparty_tag", "channel", "contact_tag", "note", "sales_rep", "timeline_event", "note_version",
)

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entry',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('changes_digest', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_audit_entry_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_audit_entry')),
    sa.UniqueConstraint('tenant_id', 'seq', name=op.f('uq_audit_entry_tenant_id_seq'))
    )
    op.create_index('ix_audit_entry_entity', 'audit_entry', ['tenant_id', 'entity_type', 'entity_id'], unique=False)
    op.create_index('ix_audit_entry_time', 'audit_entry', ['tenant_id', 'occurred_at'], unique=False)
    op.create_table('audit_head',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('head_mac', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_audit_head_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_audit_head')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_audit_head_tenant_id'))
    )
    op.create_table('counter',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('pattern', sa.String(length=60), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_counter_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_counter')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_counter_tenant_id_name'))
    )
    op.create_table('custom_field',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('field_type', sa.String(length=20), nullable=False),
    sa.Column('choices', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('show_in_list', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_custom_field_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_custom_field')),
    sa.UniqueConstraint('tenant_id', 'entity', 'key', name=op.f('uq_custom_field_tenant_id_entity_key'))
    )
    op.create_table('tag',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('colour', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_tag_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tag')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_tag_tenant_id_name'))
    )
    op.create_table('thirdparty',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_customer', sa.Boolean(), nullable=False),
    sa.Column('is_prospect', sa.Boolean(), nullable=False),
    sa.Column('is_supplier', sa.Boolean(), nullable=False),
    sa.Column('vat_number', sa.String(length=32), nullable=False),
    sa.Column('website', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_thirdparty_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_thirdparty')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_thirdparty_tenant_id_code'))
    )
    op.create_index('ix_thirdparty_tenant_name', 'thirdparty', ['tenant_id', 'name'], unique=False)
    op.create_table('address',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_address_tenant_id_thirdparty_id_thirdparty'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_address_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_address'))
    )
    op.create_index('ix_address_thirdparty', 'address', ['tenant_id', 'thirdparty_id'], unique=False)
    op.create_table('contact',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('job_title', sa.String(length=120), nullable=False),
    sa.Column('preferred_language', sa.String(length=5), nullable=False),
    sa.Column('preferred_channel', sa.String(length=10), nullable=False),
    sa.Column('consent_email', sa.Boolean(), nullable=False),
    sa.Column('consent_phone', sa.Boolean(), nullable=False),
    sa.Column('consent_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('custom', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_contact_tenant_id_thirdparty_id_thirdparty')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_contact_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_contact'))
    )
    op.create_index('ix_contact_thirdparty', 'contact', ['tenant_id', 'thirdparty_id'], unique=False)
    op.create_table('thirdparty_tag',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=False),
    sa.Column('tag_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'tag_id'], ['tag.tenant_id', 'tag.id'], name=op.f('fk_thirdparty_tag_tenant_id_tag_id_tag'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_thirdparty_tag_tenant_id_thirdparty_id_thirdparty'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_thirdparty_tag_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_thirdparty_tag')),
    sa.UniqueConstraint('tenant_id', 'thirdparty_id', 'tag_id', name=op.f('uq_thirdparty_tag_tenant_id_thirdparty_id_tag_id'))
    )
    op.create_index('ix_thirdparty_tag_tag', 'thirdparty_tag', ['tenant_id', 'tag_id'], unique=False)
    op.create_table('channel',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('email', 'phone')", name=op.f('ck_channel_kind')),
    sa.CheckConstraint('(thirdparty_id IS NULL) <> (contact_id IS NULL)', name=op.f('ck_channel_one_owner')),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['contact.tenant_id', 'contact.id'], name=op.f('fk_channel_tenant_id_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_channel_tenant_id_thirdparty_id_thirdparty'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_channel_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_channel'))
    )
    op.create_index('ix_channel_contact', 'channel', ['tenant_id', 'contact_id'], unique=False)
    op.create_index('ix_channel_thirdparty', 'channel', ['tenant_id', 'thirdparty_id'], unique=False)
    op.create_table('contact_tag',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('tag_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['contact.tenant_id', 'contact.id'], name=op.f('fk_contact_tag_tenant_id_contact_id_contact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'tag_id'], ['tag.tenant_id', 'tag.id'], name=op.f('fk_contact_tag_tenant_id_tag_id_tag'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_contact_tag_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_contact_tag')),
    sa.UniqueConstraint('tenant_id', 'contact_id', 'tag_id', name=op.f('uq_contact_tag_tenant_id_contact_id_tag_id'))
    )
    op.create_index('ix_contact_tag_tag', 'contact_tag', ['tenant_id', 'tag_id'], unique=False)
    op.create_table('note',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_note_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['contact.tenant_id', 'contact.id'], name=op.f('fk_note_tenant_id_contact_id_contact')),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_note_tenant_id_thirdparty_id_thirdparty')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_note_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_note')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name=op.f('uq_note_tenant_id_idempotency_key'))
    )
    op.create_index('ix_note_thirdparty', 'note', ['tenant_id', 'thirdparty_id', 'pinned'], unique=False)
    op.create_table('sales_rep',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=False),
    sa.Column('membership_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'membership_id'], ['membership.tenant_id', 'membership.id'], name=op.f('fk_sales_rep_tenant_id_membership_id_membership'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_sales_rep_tenant_id_thirdparty_id_thirdparty'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sales_rep_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_sales_rep')),
    sa.UniqueConstraint('tenant_id', 'thirdparty_id', 'membership_id', name=op.f('uq_sales_rep_tenant_id_thirdparty_id_membership_id'))
    )
    op.create_index('ix_sales_rep_membership', 'sales_rep', ['tenant_id', 'membership_id'], unique=False)
    op.create_table('timeline_event',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('thirdparty_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('required_right', sa.String(length=40), nullable=True),
    sa.Column('private_to_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_timeline_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['private_to_id'], ['user_account.id'], name=op.f('fk_timeline_event_private_to_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'contact_id'], ['contact.tenant_id', 'contact.id'], name=op.f('fk_timeline_event_tenant_id_contact_id_contact')),
    sa.ForeignKeyConstraint(['tenant_id', 'thirdparty_id'], ['thirdparty.tenant_id', 'thirdparty.id'], name=op.f('fk_timeline_event_tenant_id_thirdparty_id_thirdparty')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_timeline_event_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_timeline_event'))
    )
    op.create_index('ix_timeline_contact_time', 'timeline_event', ['tenant_id', 'contact_id', 'occurred_at', 'id'], unique=False)
    op.create_index('ix_timeline_tenant_time', 'timeline_event', ['tenant_id', 'occurred_at', 'id'], unique=False)
    op.create_index('ix_timeline_thirdparty_time', 'timeline_event', ['tenant_id', 'thirdparty_id', 'occurred_at', 'id'], unique=False)
    op.create_table('note_version',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('note_id', sa.Uuid(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('edited_by_id', sa.Uuid(), nullable=True),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['edited_by_id'], ['user_account.id'], name=op.f('fk_note_version_edited_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'note_id'], ['note.tenant_id', 'note.id'], name=op.f('fk_note_version_tenant_id_note_id_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_note_version_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_note_version'))
    )
    op.create_index('ix_note_version_note', 'note_version', ['tenant_id', 'note_id'], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    make_append_only("audit_entry")
    make_append_only("timeline_event")
    trigram_index("thirdparty", "search_text")
    trigram_index("contact", "search_text")
    _create_audit_heads()


def _create_audit_heads():
    """Every existing organisation gets the head of its audit chain (under its own RLS scope)."""
    bind = op.get_bind()
    tenants = sa.table("tenant", sa.column("id", sa.Uuid()))
    heads = sa.table("audit_head", sa.column("tenant_id", sa.Uuid()), sa.column("id", sa.Uuid()),
                     sa.column("last_seq", sa.BigInteger()), sa.column("last_hash", sa.String()),
                     sa.column("head_mac", sa.String()))
    for (tenant_id,) in bind.execute(sa.select(tenants.c.id)).all():
        if bind.dialect.name == "postgresql":
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        empty = new_head(tenant_id)
        bind.execute(heads.insert().values(tenant_id=tenant_id, id=new_id(), last_seq=0, last_hash=empty.last_hash,
                                           head_mac=empty.head_mac))
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade():
    op.drop_index('ix_note_version_note', table_name='note_version')
    op.drop_table('note_version')
    op.drop_index('ix_timeline_thirdparty_time', table_name='timeline_event')
    op.drop_index('ix_timeline_contact_time', table_name='timeline_event')
    op.drop_index('ix_timeline_tenant_time', table_name='timeline_event')
    op.drop_table('timeline_event')
    op.drop_index('ix_sales_rep_membership', table_name='sales_rep')
    op.drop_table('sales_rep')
    op.drop_index('ix_note_thirdparty', table_name='note')
    op.drop_table('note')
    op.drop_index('ix_contact_tag_tag', table_name='contact_tag')
    op.drop_table('contact_tag')
    op.drop_index('ix_channel_thirdparty', table_name='channel')
    op.drop_index('ix_channel_contact', table_name='channel')
    op.drop_table('channel')
    op.drop_index('ix_thirdparty_tag_tag', table_name='thirdparty_tag')
    op.drop_table('thirdparty_tag')
    op.drop_index('ix_contact_thirdparty', table_name='contact')
    op.drop_table('contact')
    op.drop_index('ix_address_thirdparty', table_name='address')
    op.drop_table('address')
    op.drop_index('ix_thirdparty_tenant_name', table_name='thirdparty')
    op.drop_table('thirdparty')
    op.drop_table('tag')
    op.drop_table('custom_field')
    op.drop_table('counter')
    op.drop_table('audit_head')
    op.drop_index('ix_audit_entry_time', table_name='audit_entry')
    op.drop_index('ix_audit_entry_entity', table_name='audit_entry')
    op.drop_table('audit_entry')
