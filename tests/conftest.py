"""Test fixtures: a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL), the app,
clients, a real SMTP server, and a clean database for every test.

On PostgreSQL the suite creates its own database and two roles: the owner that runs the
migrations, and the app role the application connects as (no ownership, no BYPASSRLS), so
row-level security is live in every test. See docs/architecture.md, "Tests".
"""
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import TestConfig, database_url
from tests.helpers import Browser
from tests.mailserver import MailServer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_POSTGRES = os.environ.get("STORIA_REQUIRE_POSTGRES") == "1"
OWNER_ROLE, APP_ROLE = "storia_test_owner", "storia_test_app"


def pytest_configure(config):
    if REQUIRE_POSTGRES and not TEST_DATABASE_URL:
        raise pytest.UsageError("STORIA_REQUIRE_POSTGRES=1 needs TEST_DATABASE_URL")


def pytest_collection_modifyitems(config, items):
    if TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (REQUIRE_POSTGRES forbids this skip)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _create_postgres_database():
    """Create a throw-away database owned by the owner role; return the URLs of its three users."""
    admin_url = make_url(database_url(TEST_DATABASE_URL))
    name = f"storia_test_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for role in (OWNER_ROLE, APP_ROLE):
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
            if not exists:
                conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{OWNER_ROLE}"'))
        conn.execute(text(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC'))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO "{APP_ROLE}"'))
    admin.dispose()
    urls = {
        "superuser": admin_url.set(database=name),
        "owner": admin_url.set(database=name, username=OWNER_ROLE, password=None),
        "app": admin_url.set(database=name, username=APP_ROLE, password=None),
    }
    return {k: v.render_as_string(hide_password=False) for k, v in urls.items()}, name


def _drop_postgres_database(name):
    admin = create_engine(make_url(database_url(TEST_DATABASE_URL)), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """URLs of the test database: superuser (cleanup), owner (migrations), app (runtime)."""
    if TEST_DATABASE_URL:
        urls, name = _create_postgres_database()
        yield urls
        _drop_postgres_database(name)
    else:
        path = tmp_path_factory.mktemp("db") / "storia-test.db"
        url = f"sqlite:///{path}"
        yield {"superuser": url, "owner": url, "app": url}


def _files_dir() -> str:
    """Where the app's local file store writes during the run (never the project's instance/)."""
    import tempfile

    global _FILES
    if _FILES is None:
        _FILES = tempfile.mkdtemp(prefix="storia-files-")
    return _FILES


_FILES = None


@pytest.fixture(scope="session")
def mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()


def make_config(database_urls, mail_server, **overrides) -> dict:
    config = TestConfig.load()
    config.update(
        STORAGE_URL=f"file://{_files_dir()}",
        SQLALCHEMY_DATABASE_URI=database_urls["app"],
        MIGRATE_DATABASE_URL=database_urls["owner"] if database_urls["owner"] != database_urls["app"] else None,
        MAIL_URL=mail_server.url,
        SERVER_NAME=None,
    )
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(database_urls, mail_server):
    """The application, on a database migrated once for the whole run."""
    from flask_migrate import upgrade

    application = create_app(make_config(database_urls, mail_server))
    application.jinja_env.undefined = __import__("jinja2").StrictUndefined
    with application.app_context():
        upgrade()
    yield application
    application.extensions["storia_live"].stop()
    with application.app_context():
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def cleaner(app, database_urls):
    """An engine that can empty every table, whatever the row-level security says."""
    from app.models import Base

    engine = create_engine(database_url(database_urls["superuser"]))
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    yield engine, tables
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request, mail_server):
    """Every test starts with empty tables and an empty mailbox."""
    mail_server.messages.clear()
    if "app" not in request.fixturenames:
        yield
        return
    engine, tables = request.getfixturevalue("cleaner")
    yield
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 (names from our metadata)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser(app):
    """A test client that adds CSRF tokens and knows how to sign in."""
    return Browser(app.test_client())


@pytest.fixture
def is_postgres(database_urls):
    return database_urls["app"].startswith("postgresql")


@pytest.fixture
def unique():
    """A short unique string for names, slugs and canaries."""
    return uuid.uuid4().hex[:10]
