"""Request fuzzer (QUALITY T27; issue 13, finding 5): every number a request carries is bounded.

Every route of the access spec gets, in each place it reads a value, what a number parser may take or choke on
(``FUZZ``): every query parameter of a GET, every field of a POST form — those of its form class, of its valid
request, and any other the view reads (recorded while it runs: ``share-<invoice>``, custom fields, ``version``).
Asserted: never a 5xx, no trace or SQL in the answer, a refused POST writes nothing, a field that refuses a value
says why beside it and keeps what was typed (422), nothing unbounded reaches the database (the warning of the
``DataError`` backstop fails the test), and a GET view reads no query parameter its spec row does not list (so the
list fuzzed is the one the view reads).

Grouped so that the whole file stays quick, without one value hiding another:
* each value goes in every parameter or field at once; one whose value alone gets the request refused before the
  others are read (an id not found, a stale version: "loners", found by halving the refused group) then goes alone;
* a 422 shows which fields refused it; the number fields that did not are sent it again with valid values around, so
  that a number the form accepts reaches the database;
* numbers get every value; a request with no number (text, choices, ids) gets the first ones, ``FOR_ANY_FIELD``,
  which also trip a text or a choice. A parameter or field is a number when its form field is, when its page shows
  a number input, or when the view reads it with a converter (``get(name, type=...)``, as ``url_int`` does).
A value the form accepts is saved, then undone (in the tables the spec lets the route write; the rest when the test
ends) so that the next request finds the world as seeded.
"""
import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import DecimalField, FloatField, IntegerField
from wtforms.fields.core import UnboundField

from app import pagination
from app.models import Base
from app.pagination import MAX_PAGE
from tests.access_spec import SPEC, case_id, route_cases
from tests.security.html import form_controls, leaked_internals
from tests.security.world import ServerError, diff, outside, revert, snapshot
from tests.test_security import actor_for, send, signed_in

# What a number parser may take or choke on. The first ones are also what trips a text or a choice (a validator that
# reads digits, a length, a required field): a form with no number field gets those only (``FOR_ANY_FIELD``).
FUZZ = {
    "huge": "99999999999999999999999", "minus one": "-1", "zero": "0", "superscript digits": "\u00b9\u00b2\u00b3",
    "Arabic-Indic digits": "\u0661\u0662\u0663", "10,000 digits": "1" * 10_000, "NUL": "12\x00", "empty": "",
    "emoji": "\U0001f522",
    "huge negative": "-99999999999999999999999", "past int32": "2147483648", "past int64": "9223372036854775808",
    "1e309": "1e309", "NaN": "NaN", "Infinity": "Infinity", "hex": "0x10", "full-width digits": "\uff11\uff12\uff13",
    "escaped NUL": "%00", "fraction": "1.5", "padded": " 7 ",
}
FOR_ANY_FIELD = list(FUZZ)[:9]
# Fields never fuzzed: the CSRF token (refused as a whole, 400) and uploads (files, not text).
NOT_FUZZED = {"csrf_token", "files", "logo", "invitation"}
WHOLE_REFUSALS = (400, 413, 429)  # the request refused before any field is read: nothing to tell apart
BACKSTOP = "unbounded input"  # the DataError handler's warning (app/web.py): a number no parser bounded


class _Reads:
    """Names a view reads from the query string and from the form (recorded while the fuzzer runs)."""

    def __init__(self):
        self.args, self.form = set(), set()
        # Read with a converter (``request.form.get(name, type=int)``, app.pagination's ``url_int``): numbers.
        self.converted = {"args": set(), "form": set()}


READS = _Reads()


class _RecordedArgs(ImmutableMultiDict):
    """The query string's parameters, noting each name a view asks for."""

    target = "args"

    def _note(self, key):
        getattr(READS, self.target).add(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 (MultiDict's own signature)
        self._note(key)
        if type is not None:
            READS.converted[self.target].add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


class _RecordedForm(_RecordedArgs):
    target = "form"


@pytest.fixture
def recorded(app, monkeypatch):
    """Requests record the names their view reads from the query and the form (``READS``)."""
    base = app.request_class

    class Recording(base):
        parameter_storage_class = _RecordedForm  # the form's class (Werkzeug's form parser uses it)

        @property
        def args(self):
            return _RecordedArgs(super().args)

    monkeypatch.setattr(app, "request_class", Recording)
    READS.args.clear()
    READS.form.clear()
    READS.converted["args"].clear()
    READS.converted["form"].clear()
    return READS


@pytest.fixture
def backstop(caplog):
    """The warnings of the DataError backstop logged during the test (each one an unbounded number found)."""
    caplog.set_level(logging.WARNING)
    yield lambda: [r.getMessage() for r in caplog.records if BACKSTOP in r.getMessage()]


def _problems(response, sent) -> list[str]:
    """What is wrong with any answer: a server error, or internals shown."""
    body = response.get_data().decode("utf-8", "replace")  # a PDF or a file is bytes
    found = [f"{response.status_code}"] if response.status_code >= 500 else []
    return found + leaked_internals(body, sent)


# GET: every query parameter.

GET_ROUTES = [r for r in SPEC if "GET" in r.methods]


@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda r: f"GET {r.rule}")
def test_query_numbers_are_bounded(app, world, start, cleaner, route, recorded, backstop):
    """Every case's valid request; then, on the fullest case, each value in every parameter at once, except those
    that get the page refused on their own (an id not found), which have it alone; values past ``FOR_ANY_FIELD``
    only where a number is read. Nothing breaks or leaks, nothing is written beyond the spec's ``writes``, and the
    view reads only the parameters its row lists."""
    failures = []
    for case in route.cases:
        _get(app, world, route, case, {}, failures)
    fullest = max(route.cases, key=lambda c: len(c.query))
    loners = set()
    for label, value in FUZZ.items() if route.query_params else ():
        numbers = READS.converted["args"]
        together = [p for p in route.query_params if p not in loners]
        groups = [[p] for p in route.query_params if p in loners] + ([together] if together else [])
        groups = [g for g in groups if label in FOR_ANY_FIELD or numbers.intersection(g)]
        while groups:
            group = groups.pop()
            if _get(app, world, route, fullest, dict.fromkeys(group, value), failures, label):
                groups += _halves(group)
                loners |= set(group) if len(group) == 1 else set()
    assert not failures, "\n".join(failures)
    assert backstop() == []
    unlisted = READS.args - set(route.query_params)
    assert unlisted == set(), f"the view reads query parameters its spec row does not list (query_params): {sorted(unlisted)}"
    assert outside(diff(start, snapshot(cleaner)), fullest.writes) == []


def _get(app, world, route, case, changed: dict, failures: list, label="valid") -> bool:
    """GET ``case`` with ``changed`` on top of its valid query, noting problems in ``failures``; True when refused
    for what a parameter holds (not as a whole, as a NUL anywhere is)."""
    query = {k: world.resolve(v) for k, v in case.query.items()} | changed
    path = world.url(route, case).split("?")[0]
    try:
        response = actor_for(app, world, case).get(f"{path}?{urlencode(query)}" if query else path)
    except ServerError as error:
        failures.append(f"{label} in {sorted(changed)}: {str(error)[:400]}")
        return True
    failures += [f"{label} in {sorted(changed)}: {p}" for p in _problems(response, query.values())]
    return response.status_code >= 400 and response.status_code not in WHOLE_REFUSALS


# POST: every form field.

POST_CASES = route_cases(methods=("POST",))
TEXT_INPUTS = ("text", "email", "url", "search", "tel", "number", "date", "datetime-local", None)
NUMBER_FIELDS = (IntegerField, DecimalField, FloatField)  # and their kinds (AmountField, the custom fields' numbers)


def _declared(case) -> dict:
    """The fields of ``case``'s form class that it reads, by name."""
    form = case.form_class
    fields = {name: getattr(form, name, None) for name in dir(form)} if form else {}
    return {name: f for name, f in fields.items() if isinstance(f, UnboundField) and name not in case.ignored}


def _is_number_control(control: dict) -> bool:
    return control.get("type") == "number" or control.get("inputmode") in ("numeric", "decimal")


def _is_text_box(control: dict) -> bool:
    """Where a person types (what they typed can be shown again), unlike a choice, a password or a file."""
    return control.get("tag") == "textarea" or (control.get("tag") == "input" and control.get("type") in TEXT_INPUTS)


class _Fuzzing:
    """One POST case being fuzzed: sends, checks every answer, undoes what an accepted value saved."""

    def __init__(self, app, world, triple, cleaner, start):
        self.app, self.world, self.triple, self.cleaner, self.start = app, world, triple, cleaner, start
        self.actor = actor_for(app, world, triple[1])
        declared = _declared(triple[1])
        self.fields = (set(declared) | set(triple[1].form)) - NOT_FUZZED
        # What may carry a number to the database: number fields, and those the page shows as number inputs.
        self.numbers = {name for name, f in declared.items() if issubclass(f.field_class, NUMBER_FIELDS)}
        self.loners = set()  # fields whose value alone gets the request refused (an id not found, a stale version)
        self.failures = []
        self.version = self._data_version()
        engine, tables = cleaner
        # The tables an accepted value of a tenant route is undone in: those the spec lets it write (a snapshot of
        # them is cheap); anything else is undone when the test ends.
        self.written = (engine, [t for t in tables if t in triple[1].writes]) if triple[0].tenant else cleaner

    def fuzz(self, fields, label, value) -> None:
        """``value`` in every field at once (fields refused alone: one by one), then in the number fields that did not
        refuse it, with valid values around, until each has reached the database or been refused. Only numbers get
        the values past ``FOR_ANY_FIELD``."""
        self.numbers |= READS.converted["form"] & self.fields
        for group in [sorted(fields - self.loners), *([f] for f in sorted(fields & self.loners))]:
            if group and (label in FOR_ANY_FIELD or self.numbers.intersection(group)):
                self._explore(group, label, value)

    def _explore(self, group, label, value) -> None:
        where = f"{label} in {group if len(group) < 4 else f'{len(group)} fields'}"
        try:
            response = send(self.actor, self.world, self.triple, htmx=True, extra=dict.fromkeys(group, value))
        except ServerError as error:
            self.failures.append(f"{where}: {str(error)[:400]}")
            for half in _halves(group):  # which field (the message names it)
                self._explore(half, label, value)
            return
        status, body = response.status_code, response.get_data().decode("utf-8", "replace")
        self.failures += [f"{where}: {p}" for p in _problems(response, [value])]
        if status < 400:
            return self._accepted()
        self._refused(where)
        if status == 422:
            flagged = self._check_refusal(body, group, value, where)
            numbers = [f for f in group if f in self.numbers and f not in flagged]
            if numbers and (flagged or len(numbers) < len(group)):
                self._explore(numbers, label, value)
        elif status not in WHOLE_REFUSALS:
            if len(group) == 1:
                self.loners |= set(group)
            for half in _halves(group):
                self._explore(half, label, value)

    def _check_refusal(self, body, group, value, where) -> set[str]:
        """The fields of ``group`` a 422 marks: each says why beside it and keeps what was typed."""
        controls, ids = form_controls(body)
        self.numbers |= {name for name in group if _is_number_control(controls.get(name, {}))}
        flagged = {name for name in group if controls.get(name, {}).get("aria-invalid") == "true"}
        typed = any(_is_text_box(controls.get(name, {})) for name in group)  # not only forged choices
        if typed and not flagged and "field-error" not in body and "flash-error" not in body:
            self.failures.append(f"{where}: 422 without a reason")
        for name in flagged:
            control = controls[name]
            if control.get("aria-describedby") not in ids and not control.get("error_follows"):
                self.failures.append(f"{where}: {name} refused without its reason beside it")
            shown = control.get("value", "")
            if _is_text_box(control) and shown.strip() != value.strip():  # stripped: a filter may trim
                self.failures.append(f"{where}: {name} did not keep the input (shows {shown[:30]!r})")
        return flagged

    def _data_version(self) -> int:
        engine, _ = self.cleaner
        tenant = Base.metadata.tables["tenant"]
        with engine.connect() as conn:
            return conn.execute(select(tenant.c.data_version).where(tenant.c.id == self.world.a.id)).scalar()

    def _refused(self, where) -> None:
        """A refused request saved nothing of A (every transaction that writes a tenant's data moves its version)."""
        if self.triple[0].tenant and self._data_version() != self.version:
            self.failures.append(f"{where}: refused, yet it wrote")
            self._accepted()

    def _accepted(self) -> None:
        """An accepted value is saved: undone for the next request (which must find the world as seeded)."""
        route, case, _ = self.triple
        if route.tenant and "security_event" not in case.writes and self._data_version() == self.version:
            return  # nothing of A was written (a write moves its version; the security log does not, hence the test)
        revert(self.written, self.start, snapshot(self.written))  # nothing when nothing changed
        self.version = self._data_version()


def _halves(group: list) -> list[list]:
    return [group[:len(group) // 2], group[len(group) // 2:]] if len(group) > 1 else []


@pytest.mark.parametrize("triple", POST_CASES, ids=case_id)
def test_form_numbers_are_bounded(app, world, start, cleaner, triple, recorded, backstop):
    """Each value in every field the form or the view reads (see the module's docstring for the grouping): never a
    5xx or a leak; a 422 marks the refused fields, says why beside each and keeps the input; a refused request saves
    nothing; nothing unbounded reaches the database."""
    fuzzing = _Fuzzing(app, world, triple, cleaner, start)
    if not fuzzing.fields:  # the valid request shows what the view reads
        send(fuzzing.actor, world, triple, htmx=True)
        fuzzing._accepted()
    done = set()
    while fuzzing.fields - done:
        todo = fuzzing.fields - done
        for label, value in FUZZ.items():
            fuzzing.fuzz(todo, label, value)
        done |= todo
        fuzzing.fields |= READS.form - NOT_FUZZED  # read by the view though neither declared nor sent: fuzzed in turn
    assert not fuzzing.failures, "\n".join(fuzzing.failures)
    assert backstop() == []
    if not triple[0].tenant:  # a refused sign-in still counts the attempt: within the spec's writes
        assert outside(diff(start, snapshot(cleaner)), triple[1].writes) == []


# The reported instances (issue 13, finding 5), and the backstop.

PAGED = ["thirdparties/", "contacts/", "documents/", "documents/trash", "sales/quotes/", "sales/orders/", "sales/invoices/",
         "sales/contracts/", "sales/products/", "pipeline/list"]


@pytest.mark.parametrize("page", ["99999999999999999999999", "-99999999999999999999999", "0", str(MAX_PAGE + 1)])
def test_any_page_number_shows_a_page(app, world, page):
    """A page past the data or past the last page allowed is an empty page, none or a negative one the first: never a
    500 (the probe's ``?page=99999999999999999999999`` was one on every paged list)."""
    owner = signed_in(app, world)
    for path in PAGED:
        response = owner.get(f"/{world.a.slug}/{path}?page={page}")
        assert response.status_code == 200, path


def test_the_audit_log_reads_any_cursor(app, world):
    owner = signed_in(app, world)
    for before in ("99999999999999999999", "-1", "0", "1"):
        assert owner.get(f"/{world.a.slug}/admin/audit?before={before}").status_code == 200, before


def test_reminder_days_are_ascii_numbers_within_a_year(app, world, start, cleaner):
    """The settings' late-payment days are read by the one parser: superscripts or 10,000 digits are refused beside the
    field with the input kept (they were a 500: ``"¹".isdigit()`` holds, ``int("¹")`` raises)."""
    owner = signed_in(app, world)
    form = {"name": "Renamed", "locale": "en", "timezone": "Europe/Paris", "currency": "EUR", "reminder_minutes": "30"}
    for typed in ("\u00b9\u00b2\u00b3", "7, 1" + "0" * 5000, "7, 400", "0"):
        response = owner.post(f"/{world.a.slug}/admin/settings", {**form, "dunning_days": typed}, htmx=True)
        controls, _ = form_controls(response.get_data(as_text=True))
        assert response.status_code == 422 and controls["dunning_days"]["aria-invalid"] == "true", typed
        assert controls["dunning_days"]["value"] == typed
    assert diff(start, snapshot(cleaner)) == []
    assert owner.post(f"/{world.a.slug}/admin/settings", {**form, "dunning_days": " 45,7 ; 30"}).status_code == 303
    assert [row["dunning_days"] for row in snapshot(cleaner)["tenant"].values() if row["id"] == world.a.id] == [[7, 30, 45]]


@pytest.mark.postgres
def test_a_number_out_of_the_databases_range_is_a_400_and_a_warning(app, world, monkeypatch, backstop):
    """The backstop: were a number read without bounds (here the page's own limit lifted), PostgreSQL's refusal
    (numeric value out of range) is a 400 and a warning naming the request; the next request is served as usual."""
    monkeypatch.setattr(pagination, "MAX_PAGE", 10**30)
    owner = signed_in(app, world)
    response = owner.get(f"/{world.a.slug}/contacts/?page=99999999999999999999999")
    assert response.status_code == 400 and leaked_internals(response.get_data(as_text=True)) == []
    assert backstop() == [f"unbounded input reached the database on GET /{world.a.slug}/contacts/: NumericValueOutOfRange"]
    assert owner.get(f"/{world.a.slug}/contacts/").status_code == 200
