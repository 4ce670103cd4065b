"""One place that decides page or fragment, and the small response helpers htmx needs."""
from flask import make_response, redirect, render_template, session
from jinja2_fragments.flask import render_block
from jinja2_fragments.flask import render_blocks as _render_blocks

from app.extensions import htmx


def wants_fragment() -> bool:
    """True when htmx swaps part of the page (not boosted navigation or history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(template: str, block: str | None = None, *, status: int = 200, **context):
    """Render ``template`` whole, or only ``block`` (plus pending flashes) for an htmx swap."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
        if session.get("_flashes"):
            body += render_template("_htmx/flash.html", oob=True)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_blocks(template: str, blocks: list[str], **context):
    """Several blocks of ``template`` in one answer (the extra ones usually swap out of band)."""
    response = make_response(_render_blocks(template, blocks, **context))
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str):
    """Answer a successful form post: ``HX-Redirect`` for htmx, 303 see-other otherwise."""
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)
