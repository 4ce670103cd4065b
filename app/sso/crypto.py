"""Organisations' client secrets, encrypted at rest with a key of their own derived from ``SECRET_KEY``.

Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``; the key is HKDF-SHA256 of ``SECRET_KEY`` with a
purpose string, so it differs from every other key the secret feeds (sessions, e-mailed links). A new
``SECRET_KEY`` makes the stored secrets unreadable: each organisation's admin then enters theirs again.
"""
import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PURPOSE = b"storia.sso.client-secret.v1"


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode() if isinstance(secret, str) else secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str | None:
    """The secret, or None when it cannot be read (written under another ``SECRET_KEY``, or altered)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
