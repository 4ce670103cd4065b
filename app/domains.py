"""Domains plug in: each business domain (customers, contacts, agenda, sales, documents…) says in one ``plugin.py`` of
its own what it adds to the core — its rights, its timeline event kinds, its panels on the customer card, its search,
its template helpers, its menu entries, and the hooks by which domains hear of each other — and the core reads them
here. The core (tenancy, accounts, permissions, the timeline, the card shell, search, the web helpers) imports no
domain; ``create_app`` names the domains once (``app.DOMAINS``). See docs/architecture.md, "Domains plug in".

A domain is a frozen value registered once per process (registering the same one again changes nothing), so what a
domain adds is known as soon as its ``plugin`` module is imported, before any view module uses it.
"""
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventKind:
    """A kind of timeline event: how it reads (a label, translated per reader, and an icon) and the filter group that
    offers it."""

    key: str
    label: object
    icon: str = "dot"  # a name of app/icons.json (Lucide)
    group: str | None = None


@dataclass(frozen=True)
class KindGroup:
    """A choice of the timeline's "What" filter, covering the kinds that name it as their group."""

    key: str
    label: object
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A box of the customer card (contacts, deals, sales, documents…).

    ``load(viewer, thirdparty)`` returns what the template needs, or None when the viewer may not see the panel;
    ``count(data)`` the number shown on the card's row of tabs; ``template`` is included with ``tp`` and ``data`` (and
    ``panel``) in its context. ``lazy`` panels are loaded when opened (their own URL), the others in the card's request.

    ``facts(viewer, thirdparty)``, if given, returns the panel's scalar SQL expressions by name (a count, a latest
    date…), or None when the viewer may not see the panel: the card reads every panel's facts and its own header's in
    ONE statement, then calls ``load(viewer, thirdparty, facts)`` with their values (a dict) — or, for a lazy panel,
    takes those values as its ``data`` (what its tab's ``count`` reads) without loading anything else.
    """

    key: str
    label: object
    template: str
    load: Callable
    order: int = 100
    count: Callable | None = None
    lazy: bool = False
    facts: Callable | None = None
    place: str = "side"  # "side": a box beside the timeline (a tab on phones); "facts": a line of the card's header


@dataclass(frozen=True)
class NavLink:
    """An entry of the top menu: shown to whoever holds ``right``; ``menu`` groups it ("sales", "admin") or None for
    the bar itself; ``badge()`` an optional number beside it."""

    endpoint: str
    label: object
    right: str | None = None
    menu: str | None = None
    order: int = 100
    badge: Callable | None = None
    badge_label: object = ""  # what the badge's number counts, for screen readers
    # badge_count(user_id) → the badge's number as a scalar SQL expression for the person in the organisation in scope:
    # read with the session and the viewer, in the same statement (auth.sessions); ``badge()`` answers elsewhere.
    badge_count: Callable | None = None


@dataclass(frozen=True)
class Subject:
    """A record of a domain that others may point at (a document attached to it): whose it is, how it reads, where
    it is. The answer of the hook ``document_subject(viewer, type, id)`` — None when it is not the domain's type, does
    not exist, or the viewer may not see it."""

    id: object
    thirdparty_id: object
    label: str
    url: str


@dataclass(frozen=True)
class Domain:
    name: str
    areas: Mapping[str, object] = field(default_factory=dict)      # right area → its label in the role editor
    rights: Mapping[str, object] = field(default_factory=dict)     # "area.action" → what it allows, in words
    role_rights: Mapping[str, tuple] = field(default_factory=dict)  # built-in role key → rights it gets by default
    kinds: tuple = ()                                               # EventKind
    kind_groups: tuple = ()                                         # KindGroup
    field_labels: Mapping[str, object] = field(default_factory=dict)  # a changed field's name, in words
    value_formats: tuple = ()                                       # (test(value) → bool, show(value) → str)
    panels: tuple = ()                                              # Panel
    nav: tuple = ()                                                 # NavLink
    macros: Mapping[str, str] = field(default_factory=dict)         # name in templates → macro template
    template_globals: Mapping[str, Callable] = field(default_factory=dict)
    template_filters: Mapping[str, Callable] = field(default_factory=dict)
    hooks: Mapping[str, Callable] = field(default_factory=dict)     # a hook's name → the domain's handler
    search: tuple = ()                                              # search providers (app/search.py)
    slots: Mapping[str, tuple] = field(default_factory=dict)        # a place in a core page → templates included there
    blueprints: tuple = ()                                          # (blueprint, under the organisation's address?)
    init_app: Callable | None = None                                # anything else it sets up on the app


_DOMAINS: dict[str, Domain] = {}
_cache: dict = {}  # what the functions below gathered, dropped whenever a domain registers


def register(domain: Domain) -> Domain:
    """Make ``domain``'s additions known (once; the same domain again is a no-op, another one by that name an error)."""
    known = _DOMAINS.get(domain.name)
    if known is not None and known is not domain:
        raise ValueError(f"two domains named {domain.name!r}")
    _DOMAINS[domain.name] = domain
    _cache.clear()
    return domain


def cached(function):
    """Gather once per set of registered domains (the registry changes only while the app starts)."""
    def wrapper(*args):
        key = (function.__name__, *args)
        if key not in _cache:
            _cache[key] = function(*args)
        return _cache[key]
    wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
    return wrapper


def registered() -> list[Domain]:
    return list(_DOMAINS.values())


def _merged(attribute: str) -> dict:
    merged: dict = {}
    for domain in _DOMAINS.values():
        merged.update(getattr(domain, attribute))
    return merged


def _joined(attribute: str) -> list:
    return [item for domain in _DOMAINS.values() for item in getattr(domain, attribute)]


@cached
def kinds() -> dict[str, EventKind]:
    return {kind.key: kind for kind in _joined("kinds")}


@cached
def kind_groups() -> list[KindGroup]:
    return sorted(_joined("kind_groups"), key=lambda group: group.order)


@cached
def field_labels() -> dict:
    return _merged("field_labels")


@cached
def value_formats() -> list:
    return _joined("value_formats")


@cached
def panels() -> list[Panel]:
    return sorted(_joined("panels"), key=lambda panel: panel.order)


@cached
def nav_links() -> list[NavLink]:
    return sorted(_joined("nav"), key=lambda link: link.order)


@cached
def rights() -> dict:
    return _merged("rights")


@cached
def areas() -> dict:
    return _merged("areas")


@cached
def role_rights(role_key: str) -> tuple:
    return tuple(right for domain in _DOMAINS.values() for right in domain.role_rights.get(role_key, ()))


@cached
def macros() -> dict:
    return _merged("macros")


@cached
def template_globals() -> dict:
    return _merged("template_globals")


@cached
def template_filters() -> dict:
    return _merged("template_filters")


@cached
def search_providers() -> list:
    return _joined("search")


@cached
def slot(name: str) -> list[str]:
    """The templates the domains put in the place ``name`` of a core page (``{% for t in slot("sign_in") %}``)."""
    return [template for domain in _DOMAINS.values() for template in domain.slots.get(name, ())]


def call(hook: str, *args, **kwargs) -> list:
    """Run every domain's handler of ``hook`` (a domain announcing something, e.g. "quote_signed"); their answers."""
    return [domain.hooks[hook](*args, **kwargs) for domain in _DOMAINS.values() if hook in domain.hooks]


def first(hook: str, *args, **kwargs):
    """The first non-None answer of a ``hook`` (a domain asking a question only another one can answer), or None."""
    for answer in call(hook, *args, **kwargs):
        if answer is not None:
            return answer
    return None
