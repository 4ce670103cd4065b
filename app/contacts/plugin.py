"""What the contacts domain adds: its timeline events, the card's box of people, its menu entry and its pages."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.contacts import bp, routes, search  # noqa: F401 (the pages attach to the blueprint when imported)
from app.contacts.services import list_contacts_of


def _panel(viewer, tp) -> dict:
    return {"contacts": list_contacts_of(tp.id)}


DOMAIN = domains.register(domains.Domain(
    name="contacts",
    kinds=(
        domains.EventKind("contact_added", _l("Contact added"), "user", "contacts"),
        domains.EventKind("contact_updated", _l("Contact changed"), "user", "contacts"),
        domains.EventKind("contact_moved_in", _l("Contact moved here"), "log-in", "contacts"),
        domains.EventKind("contact_moved_out", _l("Contact moved away"), "log-out", "contacts"),
        domains.EventKind("contact_archived", _l("Contact archived"), "archive", "contacts"),
        domains.EventKind("contact_restored", _l("Contact restored"), "archive-restore", "contacts"),
    ),
    kind_groups=(domains.KindGroup("contacts", _l("Contacts"), 50),),
    panels=(domains.Panel("contacts", _l("Contacts"), "contacts/_panel.html", _panel, order=10,
                          count=lambda data: len(data["contacts"])),),
    nav=(domains.NavLink("tenant.contacts.index", _l("Contacts"), "thirdparty.read", order=20),),
    search=(search.PROVIDER,),
    blueprints=((bp, True),),
))
