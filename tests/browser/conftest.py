"""Browser tests: the real app on a live server, driven by Debian's Chromium through Playwright.

* ``live_server`` serves the session ``app`` (same database, same SMTP server as the rest of the
  suite) from a background thread with werkzeug's own server; every exception the app raises while
  serving fails the test that was running.
* ``chromium`` is one browser for the whole session. Without the playwright package or
  ``/usr/bin/chromium`` the browser tests are skipped with the reason, unless
  ``STORIA_REQUIRE_BROWSER=1`` is set: then they fail.
* ``pages.phone()`` / ``pages.desktop()`` open a page in a fresh context (own cookies) sized like a
  phone (390×844, touch) or a desktop (1280×800). Every console error, uncaught exception and
  Content-Security-Policy violation on those pages fails the test, unless the test announced it
  with ``pages.expect_console(...)`` (a failed request that the test provokes on purpose).
* ``shot(page, "phone-team")`` saves ``test-artifacts/screenshots/phone-team.png``.

The playwright package emits no warnings here (checked under ``-W error``), so nothing is filtered.
"""
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.helpers import PASSWORD

try:
    from playwright.sync_api import sync_playwright
except ImportError as error:  # pragma: no cover - depends on the machine
    sync_playwright = None
    PLAYWRIGHT_MISSING = f"the playwright package is not installed ({error})"
else:
    PLAYWRIGHT_MISSING = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("STORIA_REQUIRE_BROWSER") == "1"
PROJECT_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_DIR / "test-artifacts" / "screenshots"
# A phone says so in its user agent too (the agenda opens on the day list there).
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "user_agent": "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

# Reports Content-Security-Policy violations as console errors, whatever Chromium itself logs.
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


# --- the live server -------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    errors: list = field(default_factory=list)

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on the live server."""
        return self.url + path


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """No access log: pytest would show a hundred lines for every failing test."""


def _closed_in_the_end(body):
    """Close the app's response even when werkzeug's server gives up on a dropped connection.

    When a page goes away mid-response (a test closing it), werkzeug can raise while draining the
    socket, before it closes the response: a file being sent (the favicon) then leaks and fails the
    test as a ResourceWarning. This generator closes it when it is closed or collected.
    """
    try:
        yield from body
    finally:
        if hasattr(body, "close"):
            body.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The session ``app`` served on a free loopback port by a background thread."""
    errors = []

    def wsgi(environ, start_response):
        # TestConfig propagates exceptions: werkzeug answers 500 and logs; we also fail the test.
        try:
            return _closed_in_the_end(app(environ, start_response))
        except Exception as exc:
            errors.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}: {exc!r}")
            raise

    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="storia-live-server", daemon=True)
    thread.start()
    live = LiveServer(f"http://127.0.0.1:{server.server_port}", errors)
    yield live
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(autouse=True)
def _links_name_the_live_server(app, live_server):
    """E-mailed links are built from APP_URL (app/links.py): during a browser test, the live server's."""
    saved = app.config["APP_URL"]
    app.config["APP_URL"] = live_server.url
    yield
    app.config["APP_URL"] = saved


# --- Chromium -----------------------------------------------------------------------------------

def _unavailable(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"STORIA_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests need Playwright and Chromium: {reason}")


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (Debian's, never a downloaded one) for the whole session."""
    if PLAYWRIGHT_MISSING:
        _unavailable(PLAYWRIGHT_MISSING)
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:
        playwright.stop()
        _unavailable(f"Chromium did not start: {exc}")
    yield browser
    browser.close()
    playwright.stop()


# --- pages that report their console errors -----------------------------------------------------

class Pages:
    """Opens pages in fresh contexts and collects what went wrong on them."""

    def __init__(self, browser, live: LiveServer):
        self._browser = browser
        self.live = live
        self._contexts = []
        self._expected: list[re.Pattern] = []
        self.problems: list[str] = []

    def phone(self):
        return self._open("phone", PHONE)

    def desktop(self):
        return self._open("desktop", DESKTOP)

    def expect_console(self, *patterns: str) -> None:
        """Accept console errors matching one of ``patterns`` (regular expressions) in this test."""
        self._expected += [re.compile(p) for p in patterns]

    def _open(self, kind: str, options: dict):
        context = self._browser.new_context(base_url=self.live.url, locale="en-GB", **options)
        context.set_default_timeout(10_000)
        context.add_init_script(_CSP_REPORTER)
        self._contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self._report(kind, page, msg.text))
        page.on("pageerror", lambda exc: self._report(kind, page, f"uncaught {exc}", expectable=False))
        return page

    def _report(self, kind, page, text, expectable=True):
        if expectable and any(p.search(text) for p in self._expected):
            return
        self.problems.append(f"[{kind}] {page.url}: {text}")

    def close(self):
        for context in self._contexts:
            context.close()
        self._contexts.clear()


_PAGES = pytest.StashKey[Pages]()


@pytest.fixture
def pages(chromium, live_server, request):
    """A factory of phone and desktop pages; the test fails on any console error they log."""
    live_server.errors.clear()
    opened = Pages(chromium, live_server)
    request.node.stash[_PAGES] = opened
    yield opened
    opened.close()  # before the tables are emptied, so that no request is still running


@pytest.fixture
def phone(pages):
    return pages.phone()


@pytest.fixture
def desktop(pages):
    return pages.desktop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test that passed but left console errors, CSP violations or server errors."""
    result = yield
    opened = item.stash.get(_PAGES, None)
    if opened is not None:
        problems = opened.problems + [f"[server] {e}" for e in opened.live.errors]
        if problems:
            raise AssertionError("the browser or the server reported errors:\n  " + "\n  ".join(problems))
    return result


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def shot():
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return take


@pytest.fixture
def sign_in(live_server):
    """Sign in through the real form and wait for the page it leads to."""

    def do(page, email: str, password: str = PASSWORD, *, path: str = "/auth/login"):
        page.goto(path)
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        with page.expect_navigation():
            page.locator("#login-form button[type=submit]").click()
        return page

    return do
