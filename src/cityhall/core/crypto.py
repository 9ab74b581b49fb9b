"""Encryption of sensitive fields at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from ``CITYHALL_FIELD_ENCRYPTION_KEYS``; the first one encrypts and all
of them decrypt, so a key is rotated by prepending a new one and re-saving rows
(``cityhall rotate-keys``).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt field: unknown key or damaged value") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first key."""
    return fernet().rotate(token.encode()).decode()


def blind_index(value: str, purpose: str) -> str:
    """A keyed hash for looking up an encrypted value without storing it in clear."""
    key = hashlib.sha256(f"blind-index:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
