"""Sending a stored version to the browser: after the right check and the history record only.

On S3 the browser gets a short-lived presigned URL on the store's own origin, whose response
headers (disposition, type) are fixed by the signature. On the local store the app streams the
file. Either way only the allow-list (PDF, images, plain text) is ever inline, always with a
server-chosen type, ``nosniff`` and a sandboxing CSP; everything else is an attachment (T16, T17).
"""
from flask import Response, current_app, redirect

from app.documents import filetypes
from app.fileheaders import protect_file
from app.models import Document, DocumentVersion
from app.storage import Storage


def may_show_inline(version: DocumentVersion) -> bool:
    return version.mime in filetypes.INLINE_TYPES


def filename_of(document: Document, version: DocumentVersion) -> str:
    """The name a download gets: the document's, with the version number for earlier versions."""
    if version.id == document.current_version_id:
        return document.name
    stem, dot, ext = document.name.rpartition(".")
    return f"{stem} (v{version.number}).{ext}" if dot else f"{document.name} (v{version.number})"


def send(storage: Storage, document: Document, version: DocumentVersion, *, inline: bool) -> Response:
    inline = inline and may_show_inline(version)
    disposition = filetypes.content_disposition(filename_of(document, version), inline=inline)
    url = storage.presigned_get(version.storage_key, filename_header=disposition, content_type=version.served_type,
                                expires=current_app.config["DOCUMENT_URL_SECONDS"])
    if url is not None:
        response = redirect(url, 302)
        response.headers["Referrer-Policy"] = "no-referrer"
    else:
        # The chunks need no request context: plain iteration, closed by the server when the response ends.
        response = Response(storage.open(version.storage_key), content_type=version.served_type,
                            direct_passthrough=True)
        response.headers["Content-Length"] = str(version.size)
        response.headers["Content-Disposition"] = disposition
        protect_file(response)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def send_thumbnail(storage: Storage, version: DocumentVersion) -> Response:
    """A small image made by us (never the uploaded bytes), streamed by the app on every store."""
    response = Response(storage.open(version.thumbnail_key), mimetype=filetypes.THUMBNAIL_TYPE,
                        direct_passthrough=True)
    response.headers["Cache-Control"] = "private, no-store"  # signed-in content is never kept by caches
    response.headers["Content-Disposition"] = "inline"
    return protect_file(response)
