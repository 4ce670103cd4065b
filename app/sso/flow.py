"""The OpenID Connect code flow with Authlib: start it (state, nonce, PKCE S256), and check the provider's answer.

A flow in progress lives in the signed session (``FLOWS``, keyed by its state, at most ``MAX_FLOWS``, each for
``FLOW_SECONDS``) and is taken out by the first answer that names it, so an answer replayed, forged, or meant for
another browser finds nothing. The callback path names the provider, and must be the one the flow started with
(no mix-up between providers); an ``iss`` parameter, when the provider sends one (RFC 9207), must be its issuer.
The ID token is checked with joserfc (Authlib's JOSE) and Authlib's ``CodeIDToken``: signature against the
provider's keys (asymmetric algorithms only), ``iss``, ``aud`` (this client alone), ``exp``, ``iat``, ``nbf``,
``nonce``, ``azp``, ``at_hash``. E-mail and name come from the ID token, else from the userinfo endpoint (whose
``sub`` must be the token's).
"""
import re
import time
from dataclasses import dataclass

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from flask import session, url_for
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.sso.providers import SCOPE, TENANT_PLACEHOLDER, TIMEOUT, Provider, ProviderError, check_address, signing_keys
from app.sso.refusals import Refused, error_code

FLOWS = "sso_flows"
MAX_FLOWS = 3
FLOW_SECONDS = 600
LEEWAY = 60  # seconds of clock difference tolerated on exp, iat and nbf
_TENANT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CLAIM_REASONS = {"iss": "issuer", "aud": "audience", "azp": "audience", "nonce": "nonce", "exp": "expired",
                  "iat": "not_yet_valid", "nbf": "not_yet_valid", "at_hash": "signature"}


@dataclass(frozen=True)
class Claimed:
    """Who the provider says signed in."""

    issuer: str  # the token's own ``iss`` (for Microsoft's common endpoints, the person's directory)
    subject: str
    email: str | None  # lower-cased
    email_verified: bool | None  # None: the provider did not say
    name: str


def redirect_uri(key: str) -> str:
    """Where the provider sends the browser back: always on ``APP_URL`` (app/links.py)."""
    return url_for("sso.callback", key=key, _external=True)


def begin(provider: Provider, *, purpose: str = "signin", next_url: str | None = None, hint: str | None = None,
          user_id=None) -> str:
    """Remember a new flow in the session and return the provider's authorisation URL to send the browser to."""
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    client = OAuth2Session(provider.client_id, scope=SCOPE, redirect_uri=redirect_uri(provider.key),
                           code_challenge_method="S256")
    extra = {"login_hint": hint[:254]} if hint else {}
    url, _ = client.create_authorization_url(provider.endpoints["authorization_endpoint"], state=state,
                                             code_verifier=verifier, nonce=nonce, **extra)
    now = time.time()
    flows = {k: f for k, f in (session.get(FLOWS) or {}).items() if isinstance(f, dict) and now - f.get("t", 0) < FLOW_SECONDS}
    flows = dict(sorted(flows.items(), key=lambda item: item[1]["t"])[-(MAX_FLOWS - 1):])
    flows[state] = {"k": provider.key, "n": nonce, "v": verifier, "t": now, "p": purpose, "x": next_url or "",
                    "u": str(user_id) if user_id else ""}
    session[FLOWS] = flows
    return url


def take_flow(key: str, state: str | None) -> dict:
    """The flow ``state`` names, removed from the session (it answers once).

    :raise Refused: ``state`` when there is no such flow here or it started with another provider,
        ``expired_flow`` when it is older than ``FLOW_SECONDS``.
    """
    flows = session.get(FLOWS) or {}
    flow = flows.pop(state, None) if state else None
    if flow is not None:
        session[FLOWS] = flows
    if not isinstance(flow, dict) or flow.get("k") != key:
        raise Refused("state")
    if not 0 <= time.time() - flow.get("t", 0) <= FLOW_SECONDS:
        raise Refused("expired_flow")
    return flow


def complete(provider: Provider, flow: dict, args) -> Claimed:
    """Check the provider's answer (``args``: the callback's query), exchange its code and check the ID token.

    :raise Refused: with the reason of the first check that fails.
    """
    issuer_param = args.get("iss")
    if (issuer_param is not None or provider.endpoints.get("iss_parameter")) and not _issuer_fits(provider, issuer_param):
        raise Refused("issuer")
    if args.get("error"):
        code = error_code(args.get("error"))
        raise Refused("cancelled" if code == "access_denied" else "provider_error", error=code)
    if not args.get("code"):
        raise Refused("state")
    token = _exchange(provider, flow, args["code"])
    claims = _id_token_claims(provider, token, flow["n"])
    if not claims.get("email") and provider.endpoints.get("userinfo_endpoint"):
        claims = {**_userinfo(provider, token, claims["sub"]), **{k: v for k, v in claims.items() if v is not None}}
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) and "@" in email and len(email) <= 254 else None
    verified = claims.get("email_verified")
    verified = verified if isinstance(verified, bool) else {"true": True, "false": False}.get(str(verified).lower())
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    return Claimed(issuer=claims["iss"], subject=claims["sub"], email=email, email_verified=verified,
                   name=" ".join(name.split())[:120])


def _issuer_fits(provider: Provider, issuer: str | None) -> bool:
    """``issuer`` is the provider's (an instance of its template, for Microsoft's common endpoints)."""
    if not isinstance(issuer, str):
        return False
    if TENANT_PLACEHOLDER not in provider.issuer:
        return issuer == provider.issuer
    before, after = provider.issuer.split(TENANT_PLACEHOLDER)
    tenant = issuer[len(before):len(issuer) - len(after)] if issuer.startswith(before) and issuer.endswith(after) else ""
    return bool(_TENANT_ID.match(tenant))


def _exchange(provider: Provider, flow: dict, code: str) -> dict:
    """The token response for ``code`` (sent with the flow's PKCE verifier and the client's secret)."""
    client = OAuth2Session(provider.client_id, provider.client_secret, redirect_uri=redirect_uri(provider.key),
                           token_endpoint_auth_method=provider.endpoints["auth_method"], code_challenge_method="S256")
    try:
        if provider.guarded:
            check_address(provider.endpoints["token_endpoint"])
        token = client.fetch_token(provider.endpoints["token_endpoint"], code=code[:2000], code_verifier=flow["v"],
                                   timeout=TIMEOUT, allow_redirects=False)
    except OAuthError as error:
        raise Refused("code", error=error_code(error.error)) from error
    except (requests.RequestException, ValueError, ProviderError) as error:
        raise Refused("unavailable") from error
    if not isinstance(token.get("id_token"), str):
        raise Refused("claims")
    return dict(token)


def _decode(provider: Provider, id_token: str):
    registry = JWSRegistry(algorithms=provider.endpoints["algorithms"])
    for fresh in (False, True):  # an unknown key id: the provider may have rotated its keys, read them once more
        try:
            keys = KeySet.import_key_set(signing_keys(provider, fresh=fresh))
            return jwt.decode(id_token, keys, algorithms=provider.endpoints["algorithms"], registry=registry)
        except InvalidKeyIdError as error:
            if fresh:
                raise Refused("signature") from error
        except ProviderError as error:
            raise Refused("unavailable") from error
        except BadSignatureError as error:
            raise Refused("signature") from error
        except (JoseError, ValueError, TypeError) as error:  # malformed, an algorithm not accepted
            raise Refused("signature") from error


def _id_token_claims(provider: Provider, token: dict, nonce: str) -> dict:
    """The ID token's claims once its signature and every claim check pass. :raise Refused: otherwise."""
    decoded = _decode(provider, token["id_token"])
    claims = decoded.claims
    expected = provider.issuer
    if TENANT_PLACEHOLDER in expected:  # Microsoft's common endpoints: the token's own directory, as it says
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not _TENANT_ID.match(tenant):
            raise Refused("issuer")
        expected = expected.replace(TENANT_PLACEHOLDER, tenant)
    audience = claims.get("aud")
    if isinstance(audience, list) and audience != [provider.client_id]:
        raise Refused("audience")  # several audiences: this token was not made for this client alone
    options = {"iss": {"essential": True, "value": expected}, "aud": {"essential": True, "value": provider.client_id},
               "sub": {"essential": True}, "nonce": {"essential": True, "value": nonce}}
    params = {"nonce": nonce, "client_id": provider.client_id, "access_token": token.get("access_token")}
    checked = CodeIDToken(claims, decoded.header, options, params)
    try:
        checked.validate(leeway=LEEWAY)
    except ExpiredTokenError as error:
        raise Refused("expired") from error
    except ClaimError as error:
        raise Refused(_CLAIM_REASONS.get(error.claim, "claims")) from error
    if not isinstance(claims.get("sub"), str) or not 0 < len(claims["sub"]) <= 255 or len(claims["iss"]) > 255:
        raise Refused("claims")
    return dict(claims)


def _userinfo(provider: Provider, token: dict, subject: str) -> dict:
    """The userinfo endpoint's claims, whose ``sub`` must be the ID token's (OpenID Connect Core 5.3.2)."""
    url = provider.endpoints["userinfo_endpoint"]
    client = OAuth2Session(provider.client_id, token=token)
    try:
        if provider.guarded:
            check_address(url)
        response = client.get(url, timeout=TIMEOUT, allow_redirects=False)
        data = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError, ProviderError) as error:
        raise Refused("unavailable") from error
    if not isinstance(data, dict):
        raise Refused("unavailable")
    if data.get("sub") != subject:
        raise Refused("userinfo")
    return {k: data.get(k) for k in ("email", "email_verified", "name")}
