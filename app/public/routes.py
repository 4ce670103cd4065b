"""Landing page, organisation chooser, language switch and health check."""
from flask import current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.services import update_language
from app.auth.signin import safe_next
from app.extensions import db
from app.public import bp
from app.web import nav_organisations


@bp.get("/")
def index():
    """Send a signed-in user to their organisation; show the landing page to everyone else."""
    if not current_user.is_authenticated:
        return render_template("public/index.html")
    organisations = nav_organisations()
    last = session.get("last_tenant")
    for tenant in organisations:
        if tenant.slug == last or len(organisations) == 1:
            return redirect(url_for("tenant.dashboard.index", tenant_slug=tenant.slug))
    return redirect(url_for("public.organisations"))


@bp.get("/orgs")
@login_required
def organisations():
    """List the user's organisations, with a way to create another."""
    return render_template("public/organisations.html", organisations=nav_organisations())


@bp.post("/lang")
def set_language():
    """Remember the chosen language (on the account when signed in) and go back."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            update_language(current_user, lang)
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"), 303)


@bp.get("/health")
def health():
    """Report that the app and its database answer (for load balancers and uptime checks)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok")
