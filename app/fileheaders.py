"""The headers of every response that is not one of our HTML pages: uploaded files, thumbnails, generated PDFs and
calendars, JSON, streams, static assets.

Such a response, opened on its own in a tab, must run nothing and embed nothing: a sandboxing CSP, ``nosniff``, a
resource readable only by this site, framed only by its own pages (a preview). ``app.web`` applies them to every
non-HTML answer, so a new kind of file cannot be served without them (the GET crawl of the security tests checks).
"""
from werkzeug.wrappers import Response

FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def protect_file(response: Response) -> Response:
    """Give ``response`` the file headers it does not set itself."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", FILE_CSP)
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers["X-Content-Type-Options"] = "nosniff"
    return response
