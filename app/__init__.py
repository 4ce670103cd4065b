"""Storia: the application factory."""
import logging
from importlib import import_module

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.compression import Compressor
from app.config import Config
from app.links import StoriaFlask, trusted_hosts

# The business domains, each a package with a plugin.py that says what it adds (docs/architecture.md, "Domains plug
# in"). A new domain is a new package and one name here; the order is the order of their blueprints and menus.
DOMAINS = ("dashboard", "thirdparties", "contacts", "documents", "agenda", "sales", "pipeline", "admin", "public", "sso")


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Create and wire the Flask application."""
    app = StoriaFlask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=False)
    app.config.from_mapping((config or Config).load() if not isinstance(config, dict) else config)
    if not isinstance(app.config.get("TRUSTED_HOSTS"), list):  # requests naming another host get a 400
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["APP_URL"], app.config.get("TRUSTED_HOSTS"))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("storia").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]), x_proto=1)
    # Every response leaves compressed for browsers that take it, whoever serves the app (app/compression.py).
    app.wsgi_app = Compressor(app.wsgi_app, (app.static_url_path or "/static").rstrip("/") + "/")
    register_extensions(app)
    register_blueprints(app)
    from app.web import register_web

    register_web(app)
    from app.cli import register_cli

    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import bodylimits, database, freshness, sameorigin  # noqa: F401 (freshness: session listeners)
    from app.audit import web as audit_web
    from app.auth import passwords, sessions
    from app.extensions import babel, csrf, db, htmx, login_manager, migrate
    from app.i18n import select_locale, select_timezone
    from app.timeline import live

    db.init_app(app)
    database.init_app(app)
    bodylimits.init_app(app)  # before CSRF protection reads the body
    sameorigin.init_app(app)  # a foreign Origin or an unparsable Referer is refused before the token is read
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    sessions.init_app(app)
    audit_web.init_app(app)
    live.init_app(app)
    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"], app.config["ARGON2_PARALLELISM"])


def register_blueprints(app: Flask) -> None:
    """The core's blueprints (accounts, the timeline, the global search), then each domain's, as its plugin declares them."""
    from app.auth import bp as auth_bp
    from app.auth import routes as auth_routes  # noqa: F401 (views attach when imported)
    from app.permissions import check_required_rights, require_membership
    from app.search_views import bp as search_bp
    from app.tenancy import make_tenant_blueprint
    from app.timeline import bp as timeline_bp
    from app.timeline import note_routes  # noqa: F401
    from app.timeline import routes as timeline_routes  # noqa: F401

    app.register_blueprint(auth_bp)
    under_tenant = [timeline_bp, search_bp]
    for domain in load_domains():
        for blueprint, tenant in domain.blueprints:
            if tenant:
                under_tenant.append(blueprint)
            else:
                app.register_blueprint(blueprint)
        if domain.init_app is not None:
            domain.init_app(app)
    app.register_blueprint(make_tenant_blueprint(require_membership, under_tenant))
    check_required_rights(app)


def load_domains() -> list:
    """Import every domain's plugin (each registers what it adds: app/domains.py) and return them in ``DOMAINS`` order."""
    return [import_module(f"app.{name}.plugin").DOMAIN for name in DOMAINS]
