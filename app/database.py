"""Engine-level wiring: SQLite foreign keys, and a clean scope after every request."""
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

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
