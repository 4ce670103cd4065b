"""The schema keeps tenants apart by construction (T9), matches its migrations, and reserves slugs."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db_security import GLOBAL_TABLES, include_in_autogenerate
from app.extensions import db
from app.models import Base, TenantScoped
from app.tenancy import RESERVED_SLUGS, slug_problem

TENANT_TABLES = {t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c}


def test_every_table_is_either_tenant_scoped_or_listed_global():
    untenanted = {t.name for t in Base.metadata.sorted_tables} - TENANT_TABLES
    assert untenanted <= GLOBAL_TABLES, f"tables without tenant_id must be listed in GLOBAL_TABLES: {untenanted - GLOBAL_TABLES}"


def test_every_tenant_model_uses_the_tenant_scoped_mixin():
    mapped = {m.local_table.name: m.class_ for m in Base.registry.mappers}
    for name in TENANT_TABLES:
        assert issubclass(mapped[name], TenantScoped), name


@pytest.mark.parametrize("table_name", sorted(TENANT_TABLES))
def test_tenant_table_has_tenant_id_first_in_its_primary_key(table_name):
    table = Base.metadata.tables[table_name]
    assert [c.name for c in table.primary_key.columns] == ["tenant_id", "id"]
    assert table.c.tenant_id.nullable is False


@pytest.mark.parametrize("table_name", sorted(TENANT_TABLES))
def test_foreign_keys_into_tenant_tables_are_composite_with_tenant_id(table_name):
    table = Base.metadata.tables[table_name]
    for constraint in table.foreign_key_constraints:
        target = constraint.referred_table
        if target.name not in TENANT_TABLES:
            continue
        pairs = {(fk.parent.name, fk.column.name) for fk in constraint.elements}
        assert ("tenant_id", "tenant_id") in pairs, f"{table_name} -> {target.name} must include tenant_id"


def test_global_tables_never_point_into_tenant_tables():
    for name in GLOBAL_TABLES - {"alembic_version"}:
        table = Base.metadata.tables[name]
        for constraint in table.foreign_key_constraints:
            assert constraint.referred_table.name not in TENANT_TABLES, f"{name} references a tenant table"


def test_models_and_migrations_do_not_drift(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_in_autogenerate}
            )
            diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"the models differ from the migrations: {diff}"


def test_every_top_level_url_segment_is_a_reserved_slug(app):
    segments = set()
    for rule in app.url_map.iter_rules():
        first = rule.rule.strip("/").split("/")[0]
        if first and not first.startswith("<"):
            segments.add(first)
    assert segments <= RESERVED_SLUGS, f"reserve these slugs: {segments - RESERVED_SLUGS}"


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_reserved_slugs_are_refused(app, slug):
    with app.app_context():
        assert slug_problem(slug) in ("reserved", "format")


@pytest.mark.parametrize("slug, problem", [
    ("ab", "format"), ("a" * 41, "format"), ("-abc", "format"), ("abc-", "format"), ("Abc", "format"),
    ("ab_c", "format"), ("ab c", "format"), ("abc", None), ("atelier-dupont-2", None), ("éclair", "format"),
])
def test_slug_format_rules(app, slug, problem):
    with app.app_context():
        assert slug_problem(slug) == problem
