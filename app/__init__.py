"""Storia: the application factory."""
import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Config
from app.links import StoriaFlask, trusted_hosts


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
    # Route modules attach views to their blueprint when imported here, not by the packages'
    # __init__: importing a domain's services must not pull in every other domain's views.
    from app.admin import audit_routes, catalog_routes, log_routes, role_routes, routes, twofactor_routes  # noqa: F401
    from app.admin import bp as admin_bp
    from app.agenda import bp as agenda_bp
    from app.agenda import plan_routes, view_routes  # noqa: F401
    from app.agenda import routes as agenda_routes  # noqa: F401
    from app.agenda.calendar_routes import bp as calendar_bp
    from app.auth import bp as auth_bp
    from app.auth import routes as auth_routes  # noqa: F401
    from app.contacts import bp as contacts_bp
    from app.contacts import routes as contact_routes  # noqa: F401
    from app.dashboard import bp as dashboard_bp
    from app.dashboard import routes as dashboard_routes  # noqa: F401
    from app.documents import bp as documents_bp
    from app.documents import routes as document_routes  # noqa: F401
    from app.permissions import require_membership
    from app.pipeline import bp as pipeline_bp
    from app.pipeline import deal_routes, stage_routes  # noqa: F401
    from app.pipeline import routes as pipeline_routes  # noqa: F401
    from app.public import bp as public_bp
    from app.public import routes as public_routes  # noqa: F401
    from app.sales import bp as sales_bp
    from app.sales import (  # noqa: F401
        chain_routes,
        contract_routes,
        metrics_routes,
        order_routes,
        payment_routes,
        product_routes,
        quote_routes,  # noqa: F401
    )
    from app.sales import document_routes as sales_document_routes  # noqa: F401
    from app.sso import admin_bp as sso_admin_bp
    from app.sso import admin_routes as sso_admin_routes  # noqa: F401
    from app.sso import bp as sso_bp
    from app.sso import init_app as init_sso
    from app.sso import routes as sso_routes  # noqa: F401
    from app.tenancy import make_tenant_blueprint
    from app.thirdparties import bp as thirdparties_bp
    from app.thirdparties import routes as thirdparty_routes  # noqa: F401
    from app.timeline import bp as timeline_bp
    from app.timeline import note_routes  # noqa: F401
    from app.timeline import routes as timeline_routes  # noqa: F401

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(sso_bp)
    init_sso(app)
    app.register_blueprint(make_tenant_blueprint(
        require_membership, [dashboard_bp, thirdparties_bp, contacts_bp, timeline_bp, documents_bp, agenda_bp, sales_bp, pipeline_bp,
                             admin_bp, sso_admin_bp]
    ))
