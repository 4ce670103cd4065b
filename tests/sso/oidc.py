"""The test suite's OpenID provider (``tests/sso/provider.mjs``: panva's oidc-provider on Node), and a person's
browser at it: the development login form and the consent page, driven over HTTP."""
import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

SCRIPT = Path(__file__).with_name("provider.mjs")
PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OidcProvider:
    """``node tests/sso/provider.mjs <port>`` on a free loopback port, stopped by ``stop``."""

    def __init__(self):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        node = shutil.which("node")
        if node is None or not (PROJECT / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("the SSO tests need Node and node_modules/oidc-provider (make setup)")
        self.process = subprocess.Popen([node, str(SCRIPT), str(self.port)], cwd=PROJECT, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("ready "):
                return
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError("the OpenID provider did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process = None

    def register(self, *redirect_uris: str, auth_method: str = "client_secret_basic") -> tuple[str, str]:
        """A new client (dynamic registration, RFC 7591): its id and secret."""
        response = requests.post(f"{self.issuer}/reg", timeout=10, json={
            "redirect_uris": list(redirect_uris), "response_types": ["code"], "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": auth_method})
        assert response.status_code == 201, response.text
        data = response.json()
        return data["client_id"], data["client_secret"]

    def person(self, login: str, **claims) -> str:
        """Set the claims of the person signing in as ``login`` (email, email_verified, name); return the login."""
        response = requests.put(f"{self.issuer}/_test/accounts/{login}", data=json.dumps(claims), timeout=10)
        assert response.status_code == 204
        return login

    def sign_in(self, authorization_url: str, login: str, *, cancel: bool = False) -> str:
        """Go through the provider as ``login`` would (sign in, consent) and return the address it sends the
        browser back to (the app's callback, with its code or error)."""
        browser = requests.Session()
        response = browser.get(authorization_url, allow_redirects=False, timeout=10)
        for _ in range(10):
            if response.status_code in (302, 303):
                target = urljoin(self.issuer, response.headers["Location"])
                if not target.startswith(self.issuer):
                    return target
                response = browser.get(target, allow_redirects=False, timeout=10)
                continue
            assert response.status_code == 200, response.text[:500]
            action = urljoin(self.issuer, re.search(r'action="([^"]+)"', response.text).group(1))
            if cancel:
                response = browser.get(action + "/abort", allow_redirects=False, timeout=10)
            elif 'name="login"' in response.text:
                response = browser.post(action, data={"prompt": "login", "login": login, "password": "any"},
                                        allow_redirects=False, timeout=10)
            else:
                response = browser.post(action, data={"prompt": "consent"}, allow_redirects=False, timeout=10)
        raise AssertionError("the provider never sent the browser back")


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
