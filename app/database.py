"""Engine-level wiring: SQLite foreign keys, a clean scope after every request, and ``json_rows`` (a short list of rows
as one column, on PostgreSQL and SQLite alike)."""
from flask import Flask
from sqlalchemy import JSON, event, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Engine

from app.extensions import db
from app.tenancy import clear_scope


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record):
    """SQLite ignores foreign keys unless asked; composite tenant keys depend on them."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def _fresh_scope(endpoint, values):
        # gunicorn's threads are reused: a scope must never outlive its request. App-level
        # preprocessors run before the tenant blueprint's, which then sets the scope.
        clear_scope()

    @app.teardown_request
    def _end_scope(exc):
        clear_scope()


def json_rows(stmt, *order_by, grouped: bool = False):
    """A scalar subquery holding the rows of ``stmt`` (a select of a few plain columns, not correlated to the outer
    query: name the record by its id) as one JSON array of arrays, in the order of ``order_by``: a statement reading
    one record brings a short list of another table's rows with it (the card's tags, reps and custom fields).
    PostgreSQL aggregates with ``json_agg`` (ordered in the aggregate), SQLite with ``json_group_array`` over an
    ordered subquery. Read back as a list of lists, or None when there are no rows on PostgreSQL (take ``or []``).
    ``grouped``: ``stmt`` aggregates (GROUP BY) — then its rows come in no particular order."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if grouped:
        inner = stmt.subquery()
        row = (func.json_build_array if postgres else func.json_array)(*inner.c)
        return select((func.json_agg if postgres else func.json_group_array)(row, type_=JSON)).scalar_subquery()
    if postgres:
        row = func.json_build_array(*stmt.selected_columns)
        return stmt.with_only_columns(func.json_agg(aggregate_order_by(row, *order_by) if order_by else row,
                                                    type_=JSON)).scalar_subquery()
    inner = stmt.order_by(*order_by).subquery()
    return select(func.json_group_array(func.json_array(*inner.c), type_=JSON)).scalar_subquery()
