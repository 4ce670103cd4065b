"""Which OpenID providers exist and what they are: Google and Microsoft from the configuration, an organisation's
from its row; their discovery documents and signing keys; the one way the app calls a provider over HTTP.

Every call has a timeout and follows no redirects. An organisation's provider is named by one of its admins, so the
addresses it leads to are checked first (``check_address``): https, and no loopback, private or link-local address
unless ``SSO_ALLOW_PRIVATE_ADDRESSES`` (development, tests) — the app must not become a way to probe its own network.
"""
import ipaddress
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import SsoProvider
from app.sso import crypto
from app.tenancy import get_tenant_by_slug, tenant_context

GOOGLE, MICROSOFT, ORG_PREFIX = "google", "microsoft", "org-"
TENANT_PLACEHOLDER = "{tenantid}"  # Microsoft's multi-tenant issuer: https://login.microsoftonline.com/{tenantid}/v2.0
TIMEOUT = 10  # seconds, per call to a provider
MAX_BYTES = 512 * 1024  # the largest discovery document or key set read
DISCOVERY_SECONDS = 3600  # Google's and Microsoft's documents are read again after an hour
KEYS_SECONDS = 600  # signing keys are read again after ten minutes, or at once when a token names an unknown key
# Asymmetric signatures only: "none" and the HS family (keyed with the client secret) are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
SCOPE = "openid email profile"


class ProviderError(Exception):
    """A provider could not be used: unreachable, or not a valid OpenID provider. ``message`` is for people."""

    def __init__(self, message, detail: str = ""):
        super().__init__(detail or str(message))
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Provider:
    """One OpenID provider as a sign-in needs it."""

    key: str  # google, microsoft, org-<slug>
    label: str  # "Google", "Microsoft", or the organisation's name
    issuer: str  # what its ID tokens carry in ``iss`` (a template with {tenantid} for Microsoft's common endpoints)
    client_id: str
    client_secret: str
    endpoints: dict  # from its discovery document: see ``read_discovery``
    trusts_email: bool  # its ``email_verified: true`` proves the address (Google); others are confirmed by e-mail
    tenant_id: uuid.UUID | None = None  # an organisation's provider: that organisation
    allowed_domains: tuple = ()
    auto_join: bool = False
    default_role_id: uuid.UUID | None = None
    guarded: bool = False  # an organisation's: its addresses are checked before every call
    extra: dict = field(default_factory=dict)


def global_keys() -> list[tuple[str, str]]:
    """The configured Google and Microsoft providers as ``(key, label)``, without any network call (the buttons)."""
    config = current_app.config
    keys = []
    if config.get("GOOGLE_CLIENT_ID") and config.get("GOOGLE_CLIENT_SECRET"):
        keys.append((GOOGLE, "Google"))
    if config.get("MICROSOFT_CLIENT_ID") and config.get("MICROSOFT_CLIENT_SECRET"):
        keys.append((MICROSOFT, "Microsoft"))
    return keys


def org_key(slug: str) -> str:
    return ORG_PREFIX + slug


def get_provider(key: str, *, discover: bool = True) -> Provider | None:
    """The provider ``key`` names, or None when there is no such (enabled, configured) provider. Without
    ``discover``, Google's and Microsoft's come without their endpoints (enough to name them and apply the rules).

    :raise ProviderError: when Google's or Microsoft's discovery document cannot be read.
    """
    if key.startswith(ORG_PREFIX):
        return organisation_provider(key[len(ORG_PREFIX):])
    if key not in dict(global_keys()):
        return None
    config, prefix = current_app.config, key.upper()
    issuer = config[f"{prefix}_ISSUER"]
    endpoints = _cached(f"discovery {issuer}", DISCOVERY_SECONDS,
                        lambda: read_discovery(issuer, templated=key == MICROSOFT, guarded=False)) \
        if discover else {"issuer": issuer}
    return Provider(key=key, label=dict(global_keys())[key], issuer=endpoints["issuer"],
                    client_id=config[f"{prefix}_CLIENT_ID"], client_secret=config[f"{prefix}_CLIENT_SECRET"],
                    endpoints=endpoints, trusts_email=key == GOOGLE)


def organisation_provider(slug: str) -> Provider | None:
    """The enabled provider of the organisation ``slug``, or None (no such organisation, none set, off, or its
    secret unreadable since ``SECRET_KEY`` changed)."""
    tenant = get_tenant_by_slug(slug)
    if tenant is None:
        return None
    with tenant_context(tenant.id):
        row = db.session.scalar(select(SsoProvider))
    secret = crypto.decrypt(row.client_secret) if row is not None and row.enabled else None
    if secret is None:
        return None
    return Provider(key=org_key(slug), label=tenant.name, issuer=row.endpoints["issuer"], client_id=row.client_id,
                    client_secret=secret, endpoints=row.endpoints, trusts_email=False, tenant_id=tenant.id,
                    allowed_domains=tuple(row.allowed_domains), auto_join=row.auto_join,
                    default_role_id=row.default_role_id, guarded=True)


# --- talking to providers ---------------------------------------------------------------------------------------------

def check_address(url: str) -> None:
    """:raise ProviderError: unless ``url`` may be called for an organisation's provider (see the module's doc)."""
    allow_private = current_app.config.get("SSO_ALLOW_PRIVATE_ADDRESSES")
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ProviderError(_l("The provider's addresses must start with https://."), f"scheme of {url}")
    if not parts.hostname:
        raise ProviderError(_l("This is not a web address."), f"no host in {url}")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError) as error:
        raise ProviderError(_l("The provider could not be reached."), f"{parts.hostname}: {error}") from error
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        raise ProviderError(_l("The provider's address is not on the public internet."), f"{parts.hostname}")


def get_json(url: str, *, guarded: bool) -> dict:
    """The JSON object at ``url``. :raise ProviderError: when unreachable, too large, or not a JSON object."""
    if guarded:
        check_address(url)
    try:
        with requests.get(url, timeout=TIMEOUT, allow_redirects=False, stream=True,
                          headers={"Accept": "application/json"}) as response:
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as error:
        raise ProviderError(_l("The provider could not be reached."), f"{url}: {type(error).__name__}") from error
    if status != 200 or len(body) > MAX_BYTES:
        raise ProviderError(_l("The provider could not be reached."), f"{url}: HTTP {status}, {len(body)} bytes")
    try:
        data = json.loads(body)
    except ValueError as error:
        raise ProviderError(_l("This address does not lead to an OpenID Connect provider."), f"{url}: not JSON") from error
    if not isinstance(data, dict):
        raise ProviderError(_l("This address does not lead to an OpenID Connect provider."), f"{url}: not an object")
    return data


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _issuer_matches(published: str, configured: str, templated: bool) -> bool:
    """The discovery document's ``issuer`` is the one asked for (a trailing slash aside), or, for Microsoft, the
    multi-tenant template that the asked-for address (``…/common/v2.0``) is an instance of."""
    if published.rstrip("/") == configured.rstrip("/"):
        return True
    if not templated or published.count(TENANT_PLACEHOLDER) != 1:
        return False
    pattern = re.escape(published.rstrip("/")).replace(re.escape(TENANT_PLACEHOLDER), "[A-Za-z0-9.-]+")
    return re.fullmatch(pattern, configured.rstrip("/")) is not None


def read_discovery(issuer: str, *, templated: bool = False, guarded: bool = True) -> dict:
    """Read and check the discovery document of ``issuer``; return what a sign-in needs from it.

    :raise ProviderError: when it cannot be read or is not a usable OpenID provider (code flow, PKCE with S256,
        an asymmetric signature, a client secret).
    """
    doc = get_json(discovery_url(issuer), guarded=guarded)
    not_oidc = _l("This address does not lead to an OpenID Connect provider.")
    published = doc.get("issuer")
    if not isinstance(published, str) or not _issuer_matches(published, issuer, templated):
        raise ProviderError(_l("The provider names another issuer than this address (%(issuer)s).",
                               issuer=str(published)[:200]), f"issuer {published!r} for {issuer}")
    urls = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        value = doc.get(name)
        if value is None and name == "userinfo_endpoint":
            continue
        if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http") or not urlsplit(value).hostname:
            raise ProviderError(not_oidc, f"{name} {value!r}")
        if guarded:
            check_address(value)
        urls[name] = value
    if "code" not in doc.get("response_types_supported", ["code"]):
        raise ProviderError(_l("The provider does not offer the authorisation code flow."), "no code flow")
    if "S256" not in doc.get("code_challenge_methods_supported", ["S256"]):
        raise ProviderError(_l("The provider does not support PKCE with S256."), "no S256")
    algorithms = [a for a in doc.get("id_token_signing_alg_values_supported", ["RS256"]) if a in ALGORITHMS]
    if not algorithms:
        raise ProviderError(_l("The provider signs its tokens in a way Storia does not accept."), "no algorithm")
    methods = doc.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    method = next((m for m in ("client_secret_basic", "client_secret_post") if m in methods), None)
    if method is None:
        raise ProviderError(_l("The provider does not accept a client secret."), f"auth methods {methods!r}")
    return {"issuer": published, **urls, "algorithms": algorithms, "auth_method": method,
            "iss_parameter": doc.get("authorization_response_iss_parameter_supported") is True}


def signing_keys(provider: Provider, *, fresh: bool = False) -> dict:
    """The provider's public keys (a JWK set), cached; ``fresh`` reads them again (a token named an unknown key)."""
    url = provider.endpoints["jwks_uri"]
    if fresh:
        _forget(f"keys {url}")
    keys = _cached(f"keys {url}", KEYS_SECONDS, lambda: get_json(url, guarded=provider.guarded))
    if not isinstance(keys.get("keys"), list):
        _forget(f"keys {url}")
        raise ProviderError(_l("The provider's signing keys could not be read."), f"{url}: no keys")
    return keys


# --- a small cache shared by the threads of one process ---------------------------------------------------------------

_CACHE: dict = {}
_LOCK = threading.Lock()


def _cached(key: str, seconds: int, load):
    with _LOCK:
        hit = _CACHE.get(key)
    if hit and time.monotonic() - hit[0] < seconds:
        return hit[1]
    value = load()
    with _LOCK:
        _CACHE[key] = (time.monotonic(), value)
    return value


def _forget(key: str) -> None:
    with _LOCK:
        _CACHE.pop(key, None)


def forget_cached() -> None:
    """Forget every document and key set read (tests; an operator's ``flask shell`` after a provider moved)."""
    with _LOCK:
        _CACHE.clear()
