"""Configuration from environment variables, each with an embedded default (12-factor)."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("STORIA_INSTANCE_DIR", PROJECT_DIR / "instance"))


def database_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named for PostgreSQL URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _embedded_secret_key() -> str:
    """Return a random key kept in ``instance/`` so that sessions survive a restart."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Production-shaped settings; every value can be overridden by the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # filled by load() when unset
    # Earlier keys (comma-separated) still read after SECRET_KEY changes: sessions, two-factor secrets, recovery codes.
    SECRET_KEY_FALLBACKS = [key.strip() for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'storia.db'}")
    )
    # Migrations run as the role that owns the tables; the app connects as one that does not.
    MIGRATE_DATABASE_URL = database_url(os.environ.get("MIGRATE_DATABASE_URL", "")) or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    STORAGE_URL = os.environ.get("STORAGE_URL", f"file://{INSTANCE_DIR / 'files'}")
    # Documents: the largest file taken, the space one organisation may fill, and how long a
    # download link minted after the right check stays valid (QUALITY T17: at most 300 s).
    DOCUMENT_MAX_BYTES = _int("DOCUMENT_MAX_MB", 100) * 1024 * 1024
    DOCUMENT_QUOTA_BYTES = _int("DOCUMENT_QUOTA_MB", 10 * 1024) * 1024 * 1024
    DOCUMENT_URL_SECONDS = min(_int("DOCUMENT_URL_SECONDS", 60), 300)
    REDIS_URL = os.environ.get("REDIS_URL") or None
    MAIL_URL = os.environ.get("MAIL_URL") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "Storia <no-reply@storia.invalid>")

    # Sessions: signed cookie holding a server-side session token (see app/auth/sessions.py).
    SESSION_COOKIE_NAME = os.environ.get("SESSION_COOKIE_NAME", "__Host-storia")
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_int("SESSION_IDLE_MINUTES", 8 * 60))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 7 * 24))
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_TIMEOUT

    # Login throttling (QUALITY T14).
    LOGIN_WINDOW = timedelta(minutes=15)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 10)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 50)

    # argon2id cost (argon2-cffi's defaults, RFC 9106's second recommendation).
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_KIB = _int("ARGON2_MEMORY_KIB", 64 * 1024)
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 4)

    PASSWORD_RESET_MAX_AGE = timedelta(minutes=_int("PASSWORD_RESET_MINUTES", 60))
    INVITATION_MAX_AGE = timedelta(days=_int("INVITATION_DAYS", 7))

    # The address people reach the app at: every absolute link (e-mails, feeds, PDFs, jobs) is built
    # from it, never from a request's Host (app/links.py). Requests naming a host outside TRUSTED_HOSTS
    # (comma-separated; default: APP_URL's host, plus the loopback names for a loopback APP_URL) get 400.
    APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:5000")
    TRUSTED_HOSTS = os.environ.get("TRUSTED_HOSTS") or None
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_SSL_STRICT = os.environ.get("WTF_CSRF_SSL_STRICT", "1") == "1"

    LANGUAGES = ("en", "fr", "it")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_DIR / "app" / "translations")

    # Live timelines: open event streams one process serves at most (each holds a thread), and
    # how long one stream lives before the browser reconnects (and catches up).
    LIVE_MAX_STREAMS = _int("LIVE_MAX_STREAMS", 40)
    LIVE_STREAM_SECONDS = _int("LIVE_STREAM_SECONDS", 300)
    AUDIT_KEY = os.environ.get("AUDIT_KEY") or None
    # Rendered customer cards and timeline pages kept per worker process (app.pagecache; 0: off),
    # and the longest an entry lives even when nothing was written (what changes with the clock).
    PAGE_CACHE_SIZE = _int("PAGE_CACHE_SIZE", 500)
    PAGE_CACHE_SECONDS = _int("PAGE_CACHE_SECONDS", 60)

    # Single sign-on (docs/architecture.md, "Single sign-on"). The Google and Microsoft buttons show when their client
    # is configured; each issuer can be pointed elsewhere (the tests point them at a local provider). MICROSOFT_TENANT:
    # common, organizations, consumers or a directory's id. Organisations' own providers may not name loopback or
    # private addresses, nor plain http, unless SSO_ALLOW_PRIVATE_ADDRESSES=1 (development and tests).
    GOOGLE_CLIENT_ID = os.environ.get("GOOGLE_CLIENT_ID") or None
    GOOGLE_CLIENT_SECRET = os.environ.get("GOOGLE_CLIENT_SECRET") or None
    GOOGLE_ISSUER = os.environ.get("GOOGLE_ISSUER") or "https://accounts.google.com"
    MICROSOFT_CLIENT_ID = os.environ.get("MICROSOFT_CLIENT_ID") or None
    MICROSOFT_CLIENT_SECRET = os.environ.get("MICROSOFT_CLIENT_SECRET") or None
    MICROSOFT_TENANT = os.environ.get("MICROSOFT_TENANT") or "common"
    MICROSOFT_ISSUER = os.environ.get("MICROSOFT_ISSUER") or f"https://login.microsoftonline.com/{MICROSOFT_TENANT}/v2.0"
    SSO_ALLOW_PRIVATE_ADDRESSES = os.environ.get("SSO_ALLOW_PRIVATE_ADDRESSES") == "1"

    HSTS_MAX_AGE = 63072000
    # Behind a reverse proxy: how many X-Forwarded-For hops to trust (0: none, use the socket).
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    @classmethod
    def load(cls) -> dict:
        """Return the settings as a dict, filling the embedded secret key if needed."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        if not values["SECRET_KEY"]:
            values["SECRET_KEY"] = _embedded_secret_key()
        return values


class TestConfig(Config):
    """Settings for the test suite: SQLite file or TEST_DATABASE_URL, fixed secret."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # replaced by tests/conftest.py
    MAIL_URL = None
    REDIS_URL = None
    APP_URL = "http://localhost"  # the test client's host
    TRUSTED_HOSTS = "localhost,127.0.0.1"
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024
    ARGON2_PARALLELISM = 1
    SSO_ALLOW_PRIVATE_ADDRESSES = True  # the test suite's OpenID provider listens on the loopback
