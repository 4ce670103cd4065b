"""What the documents domain adds: its rights, its timeline events, the card's box of documents, its menu entry,
its macros and its pages."""
from flask_babel import lazy_gettext as _l

from app import domains
from app.documents import bp, routes, search  # noqa: F401 (the pages attach to the blueprint when imported)
from app.documents.services import card_box


def _panel(viewer, tp) -> dict | None:
    box = card_box(viewer, thirdparty_id=tp.id)
    return box if box["documents"] is not None else None


def _kind(key, label, icon):
    return domains.EventKind(key, label, icon, "documents")


DOMAIN = domains.register(domains.Domain(
    name="documents",
    areas={"document": _l("Documents")},
    rights={
        "document.read": _l("See the document lists"),
        "document.upload": _l("Upload and organise documents"),
        "document.download": _l("Preview and download documents"),
        "document.delete": _l("Delete documents"),
    },
    role_rights={
        "sales": ("document.read", "document.upload", "document.download"),
        "support": ("document.read", "document.upload", "document.download"),
        "accounting": ("document.read", "document.download"),
    },
    kinds=(
        _kind("document_uploaded", _l("Document added"), "file-plus"),
        _kind("document_version_added", _l("New version of a document"), "file-stack"),
        _kind("document_updated", _l("Document changed"), "file-pen"),
        _kind("document_deleted", _l("Document moved to the trash"), "trash-2"),
        _kind("document_restored", _l("Document restored"), "archive-restore"),
        _kind("document_purged", _l("Document deleted for good"), "trash-2"),
        _kind("document_downloaded", _l("Document downloaded"), "download"),
        _kind("document_previewed", _l("Document viewed"), "eye"),
        _kind("document_views", _l("Views of a document"), "eye"),  # one line per document (rolled up)
    ),
    kind_groups=(domains.KindGroup("documents", _l("Documents"), 60),),
    field_labels={
        "folder": _l("Folder"), "number": _l("Version"), "size": _l("Size"), "sha256": _l("Checksum"),
        "mime": _l("File type"), "current_version_id": _l("Current version"), "deleted_at": _l("Moved to the trash on"),
        "document_id": _l("Document"), "version_id": _l("Version"), "action": _l("Action"),
    },
    panels=(domains.Panel("documents", _l("Documents"), "documents/_panel.html", _panel, order=40,
                          count=lambda data: data["document_count"]),),
    nav=(domains.NavLink("tenant.documents.index", _l("Documents"), "document.read", order=50),),
    macros={"docs": "documents/_macros.html"},
    search=(search.PROVIDER,),
    blueprints=((bp, True),),
))
