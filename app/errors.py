"""Error pages: what each refusal says, as a whole page or, for htmx, a message in ``#flash``."""
from flask import render_template
from flask_babel import lazy_gettext as _l

from app.extensions import htmx

ERROR_MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Reload the page and try again.")),
    403: (_l("Not allowed"), _l("You do not have the right to do this. Ask an administrator of your organisation.")),
    404: (_l("Not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Not possible any more"), _l("This record has moved on meanwhile (a validated document, for one, cannot be "
                                          "changed). Reload the page to see where it stands.")),
    413: (_l("Too large"), _l("What you sent is larger than the allowed size.")),
    422: (_l("Invalid input"), _l("Some fields need your attention.")),
    429: (_l("Too many requests"), _l("Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. Your data is safe; please try again.")),
    503: (_l("Temporarily unavailable"), _l("The database is not answering; nothing was saved and your text is still "
                                            "in the form. Try again in a moment.")),
}
TAKEN_MEANWHILE = _l("Someone else saved the same thing (a name or a number) meanwhile, so nothing was saved. "
                     "Reload the page to see it, then try again if you still need to.")
CSRF_MESSAGE = _l("This form has expired or was sent from elsewhere. Reload the page and try again.")


def render_error(code: int, message=None):
    title, default = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    template = "_htmx/error.html" if htmx else "errors/error.html"
    return render_template(template, code=code, title=title, message=message or default), code


def conflict_response(message=None):
    """409: the record moved on meanwhile. For htmx the message goes to ``#flash`` and the form stays as typed."""
    body, code = render_error(409, message)
    headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"} if htmx else {}
    return body, code, headers
