"""Alembic environment: runs as the owner role (MIGRATE_DATABASE_URL) when one is configured."""
from alembic import context
from flask import current_app
from sqlalchemy import create_engine, pool

from app.db_security import include_in_autogenerate
from app.models import Base
from app.models.base import JSONType, UTCDateTime

config = context.config


def render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types in migration scripts."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj is JSONType:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def _engine():
    owner_url = current_app.config.get("MIGRATE_DATABASE_URL")
    if owner_url:
        return create_engine(owner_url, poolclass=pool.NullPool)
    return current_app.extensions["migrate"].db.engine


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_item=render_item,
            compare_type=True,
            include_object=include_in_autogenerate,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run them against a database.")
run_migrations_online()
