"""Cross-cutting web wiring: security headers, error pages, template helpers."""
from flask import Flask, abort, current_app, g, make_response, request
from flask_babel import format_date, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException

from app import domains
from app.editing import RecordGone
from app.errors import CSRF_MESSAGE, ERROR_MESSAGES, TAKEN_MEANWHILE, conflict_response, render_error
from app.extensions import db, login_manager
from app.fileheaders import protect_file
from app.i18n import amounts, human_size, moment, money, quantity
from app.icons import icon
from app.models import utcnow
from app.permissions import can, role_label
from app.storage import storage_origin
from app.team import list_user_organisations
from app.timeline import display


def build_csp(storage_url: str = "") -> str:
    """The pages' Content-Security-Policy; previews and thumbnails may also come from the S3 store's origin."""
    files = f" {origin}" if (origin := storage_origin(storage_url)) else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data:{files}",
        f"frame-src 'self'{files}",
        f"media-src 'self'{files}",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ])


def nav_organisations():
    """The signed-in user's organisations for the switcher (one query, cached for the request; on an organisation's
    page read with the session already: auth.sessions)."""
    if "nav_orgs" not in g:
        g.nav_orgs = list_user_organisations(current_user.id) if current_user.is_authenticated else []
    return g.nav_orgs


def local_day(moment) -> str:
    """The calendar day of ``moment`` in the viewer's time zone (ISO)."""
    return moment.astimezone(get_timezone()).date().isoformat()


def day_label(moment) -> str:
    """"Today", "Yesterday" or the full date of ``moment``, in the viewer's time zone and language."""
    day = moment.astimezone(get_timezone()).date()
    today = utcnow().astimezone(get_timezone()).date()
    if day == today:
        return str(_l("Today"))
    if (today - day).days == 1:
        return str(_l("Yesterday"))
    return format_date(day, "full")


def nav_links(menu: str | None = None) -> list:
    """The menu entries of the registered domains that the viewer may open (``menu``: a drop-down's, or the bar's)."""
    viewer = g.get("viewer")
    if viewer is None:
        return []
    return [link for link in domains.nav_links() if link.menu == menu and (link.right is None or viewer.can(link.right))]


def nav_badge(link) -> int:
    """The number beside a menu entry: read with the session when it could be (``NavLink.badge_count``), else asked."""
    known = g.get("nav_badges") or {}
    if link.endpoint in known:
        return known[link.endpoint] or 0
    return link.badge() if link.badge else 0


def web_link(url: str) -> str:
    """``url`` if it is an http(s) address safe to put in an href, else "" (no javascript: links)."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else ""


# Macros every page may call (a context processor, not a top-level import: a block rendered alone sees them).
CORE_MACROS = {"forms": "_macros/forms.html", "timeline": "timeline/_macros.html", "views": "_macros/views.html",
               "picker": "_macros/picker.html"}


def register_web(app: Flask) -> None:
    csp = build_csp(app.config.get("STORAGE_URL", ""))

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        if response.mimetype != "text/html":
            protect_file(response)  # a file (uploaded or generated), JSON, a stream, an asset: sandboxed
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=(), usb=()")
        headers.setdefault("Strict-Transport-Security", f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", csp)
        if current_user.is_authenticated and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if request.endpoint != "static":
            # Error pages, sign-in redirects and form answers all differ for htmx (fragment,
            # HX-Redirect), not only render_page: a cache must never serve one for the other.
            response.vary.add("HX-Request")
        return response

    @app.before_request
    def _refuse_nul_bytes():
        # No field has a use for NUL and PostgreSQL text cannot store it (a 500 otherwise).
        for values in (request.args, request.form):
            if any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
                abort(400)

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        response = render_error(error.code if error.code in ERROR_MESSAGES else 400, getattr(error, "message", None))
        if error.code == 405:
            allowed = error.get_response().headers.get("Allow")
            return response[0], 405, {"Allow": allowed} if allowed else {}
        return response

    @app.errorhandler(DataError)
    def _unbounded_input(error):
        """A value the database cannot hold reached it (SQLSTATE class 22: a number out of range, say): the request
        is refused (400), not a 500. A backstop only: every number a request carries is bounded where it is read
        (docs/architecture.md, "Bounded numbers"), so this warning names an input that was not — the fuzzer fails on it.
        """
        app.logger.warning("unbounded input reached the database on %s %s: %s", request.method, request.path,
                           type(error.orig).__name__)
        db.session.rollback()
        return render_error(400)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error):
        """The database is down or the connection broke (QUALITY T19): a clear 503, in every mode.

        htmx puts it in ``#flash`` and leaves the form, with what the user typed, as it is. Nothing
        below may need the database: the user's language is taken while it is still loaded, then the
        request goes on as a visitor's (the signed-in user's rows cannot be reloaded).
        """
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig or error)
        try:
            get_locale()
        except SQLAlchemyError:
            pass
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request user: do not reload it
        g.pop("viewer", None)
        g.nav_orgs = []
        response = make_response(render_error(503))
        response.headers["Retry-After"] = "5"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(StaleDataError)
    def _saved_meanwhile(error):
        """The backstop of concurrent saves (app.editing): a versioned row changed between our read and our write.

        Saves lock their rows first, so this should not happen; if a path forgets, the answer is still 409
        (never 500): nothing was saved, reload to see where it stands.
        """
        app.logger.warning("stale write on %s %s: %s", request.method, request.path, error)
        db.session.rollback()
        return conflict_response()

    @app.errorhandler(IntegrityError)
    def _taken_meanwhile(error):
        """Two saves raced past a "does it exist already?" check (the same tag name, document name, reference): the
        database's unique key refuses the second. Forms check first, so this is a race, answered 409, never 500."""
        app.logger.warning("integrity race on %s %s: %s", request.method, request.path, type(error.orig).__name__)
        db.session.rollback()
        return render_error(409, TAKEN_MEANWHILE)

    @app.errorhandler(RecordGone)
    @app.errorhandler(ObjectDeletedError)
    def _deleted_meanwhile(error):
        """The row a save was about to lock (or read again after its lock) was deleted by someone else meanwhile."""
        db.session.rollback()
        return render_error(404)

    @app.errorhandler(Exception)
    def _unexpected(error):
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate or (propagate is None and (app.testing or app.debug)):
            raise error
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)

    @app.context_processor
    def _form_macros():
        # A context processor (not a top-level import) so that fragment blocks rendered alone see it.
        templates = {**CORE_MACROS, **domains.macros()}  # the domains' macros too (docs, agenda, sales…)
        return {name: app.jinja_env.get_template(template).module for name, template in templates.items()}

    app.jinja_env.filters["web_link"] = web_link
    app.jinja_env.filters["moment"] = moment
    app.jinja_env.filters["human_size"] = human_size
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["amounts"] = amounts
    app.jinja_env.filters["quantity"] = quantity
    app.jinja_env.tests["can_do"] = can
    app.jinja_env.filters.update(domains.template_filters())
    app.jinja_env.globals.update(
        kind_label=display.kind_label, field_label=display.field_label, show_value=display.show_value,
        kind_icon=display.kind_icon, thread_name=display.thread_name, icon=icon, local_day=local_day, day_label=day_label,
        current_viewer=lambda: g.get("viewer"), nav_links=nav_links, nav_badge=nav_badge, slot=domains.slot,
    )
    app.jinja_env.globals.update(domains.template_globals())
    app.jinja_env.globals.update(can=can, role_label=role_label, nav_organisations=nav_organisations,
                                 get_locale=get_locale)
