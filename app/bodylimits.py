"""Request bodies: per-view size limits (most forms stay small, an upload view takes large files), and
the temporary files of uploads closed at the end of every request.

The limit must be set before anything reads the body, and CSRF protection reads the form in the
app's first before-request functions: ``init_app`` runs ahead of it (see ``create_app``).
"""
from flask import Flask, Request, current_app, request

# Room for the form's other fields and the multipart framing around the file.
FRAMING_BYTES = 1024 * 1024


def body_limit(config_key: str):
    """Let this view take bodies up to ``config[config_key]`` bytes (plus framing) instead of ``MAX_CONTENT_LENGTH``."""
    def mark(view):
        view.body_limit_key = config_key
        return view
    return mark


class StoriaRequest(Request):
    """Remembers the temporary files its form parser opens for uploaded files.

    When parsing stops half-way (a body over the limit), Werkzeug drops the files it had opened
    without closing them; they are closed here when the request ends instead.
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        stream = super()._get_file_stream(total_content_length, content_type, filename, content_length)
        self.__dict__.setdefault("_upload_streams", []).append(stream)
        return stream

    def close(self) -> None:
        for stream in self.__dict__.pop("_upload_streams", []):
            stream.close()
        super().close()


def init_app(app: Flask) -> None:
    app.request_class = StoriaRequest

    @app.before_request
    def _apply_body_limit():
        view = current_app.view_functions.get(request.endpoint or "")
        key = getattr(view, "body_limit_key", None)
        if key:
            request.max_content_length = current_app.config[key] + FRAMING_BYTES
