"""The public pages: landing, organisation chooser, language switch, health check."""
from app import domains
from app.public import bp, routes  # noqa: F401 (the pages attach to the blueprint when imported)

DOMAIN = domains.register(domains.Domain(name="public", blueprints=((bp, False),)))
