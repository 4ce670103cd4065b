"""A provider whose ID tokens the test chooses, for the refusals a well-behaved provider never produces: tokens for
another audience, from another issuer, expired, not yet valid, badly signed. It is a plain OpenID provider otherwise
(discovery, an authorisation endpoint that signs in at once, a token endpoint that checks the code, the client's
secret and the PKCE verifier, a JWKS endpoint, userinfo), minting with joserfc (Authlib's JOSE) and a key it serves.

``templated`` makes it answer like Microsoft's multi-tenant endpoints: its discovery at ``/common/v2.0`` names the
issuer ``…/{tenantid}/v2.0`` and its tokens carry the person's directory in ``tid`` and in ``iss``.
"""
import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


class MintingProvider:
    def __init__(self, *, templated: bool = False):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.templated = templated
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.clients: dict = {}  # client id -> secret
        self.codes: dict = {}
        self.claims = {"sub": "minted-person", "email": "minted@example.org", "email_verified": True}
        self.defect = None  # see ``id_token``
        self.tenant = TENANT

    @property
    def issuer(self) -> str:
        """What to configure as the issuer (for ``templated``, Microsoft's common endpoint)."""
        return f"{self.base}/common/v2.0" if self.templated else self.base

    def token_issuer(self) -> str:
        return f"{self.base}/{self.tenant}/v2.0" if self.templated else self.base

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def register(self) -> tuple[str, str]:
        client_id, secret = secrets.token_urlsafe(8), secrets.token_urlsafe(16)
        self.clients[client_id] = secret
        return client_id, secret

    def discovery(self) -> dict:
        return {
            "issuer": f"{self.base}/{{tenantid}}/v2.0" if self.templated else self.base,
            "authorization_endpoint": f"{self.base}/authorize", "token_endpoint": f"{self.base}/token",
            "jwks_uri": f"{self.base}/jwks", "userinfo_endpoint": f"{self.base}/userinfo",
            "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["public"],
        }

    def id_token(self, client_id: str, nonce: str) -> str:
        """The ID token for ``client_id``, with ``defect``: wrong_audience, many_audiences, wrong_issuer, expired,
        issued_in_future, not_before_future, bad_signature, unknown_key, alg_none, alg_hs256, no_nonce, no_tenant,
        other_tenant."""
        now, defect = int(time.time()), self.defect
        claims = {**self.claims, "iss": self.token_issuer(), "aud": client_id, "iat": now, "exp": now + 300,
                  "nonce": nonce}
        if self.templated:
            claims["tid"] = self.tenant
        changes = {
            "wrong_audience": {"aud": "another-client"}, "many_audiences": {"aud": [client_id, "another-client"]},
            "wrong_issuer": {"iss": "https://issuer.invalid"}, "expired": {"iat": now - 900, "exp": now - 600},
            "issued_in_future": {"iat": now + 900, "exp": now + 1200}, "not_before_future": {"nbf": now + 900},
            "other_tenant": {"tid": "00000000-1111-2222-3333-444444444444"},
        }
        claims.update(changes.get(defect, {}))
        for name, gone in (("no_nonce", "nonce"), ("no_tenant", "tid")):
            if defect == name:
                claims.pop(gone, None)
        if defect == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"k1"}').rstrip(b"=").decode()
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            return f"{header}.{body}."
        if defect == "alg_hs256":
            return jwt.encode({"alg": "HS256", "kid": "k1"}, claims, OctKey.import_key(self.clients[client_id].encode()),
                              algorithms=["HS256"])
        key = self.key
        if defect == "bad_signature":
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # the same key id, another key
        if defect == "unknown_key":
            key = RSAKey.generate_key(2048, parameters={"kid": "k-unknown"})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, data, status=200):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path.endswith("/.well-known/openid-configuration"):
                    return self._json(provider.discovery())
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = query
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    return self._json({k: provider.claims[k] for k in ("sub", "email", "email_verified")})
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                client_id, _, secret = base64.b64decode(self.headers.get("Authorization", "Basic ")[6:]).decode() \
                    .partition(":")
                request = provider.codes.pop(form.get("code"), None)
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if request is None or provider.clients.get(client_id) != secret or request["client_id"] != client_id \
                        or challenge != request.get("code_challenge") or form.get("redirect_uri") != request["redirect_uri"]:
                    return self._json({"error": "invalid_grant"}, 400)
                return self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                                   "id_token": provider.id_token(client_id, request["nonce"])})

        return Handler
