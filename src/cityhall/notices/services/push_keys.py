"""The VAPID key pair this installation signs its web pushes with (RFC 8292).

- ``CITYHALL_VAPID_PRIVATE_KEY`` set: that key (base64url of the 32-byte P-256 scalar;
  ``cityhall generate_vapid_key`` makes one).
- unset, outside production: a key derived from ``SECRET_KEY`` (HMAC-SHA-256 → a scalar
  in ``[1, n-1]``), so a development machine or a test run gets the same key every time
  and browsers that subscribed stay valid across restarts.
- unset in production: no key — web push is off (``vapid_public_key()`` is ``""``); a
  derived key would silently change with the secret key and break every subscription.

A browser subscribes with the public key as ``applicationServerKey``; the push service
then accepts only messages whose VAPID header carries the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from cityhall.notices.webpush import b64url_encode, vapid

#: The order of the P-256 group.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_DERIVATION_LABEL = b"cityhall.notices.vapid-private-key"


def derive_private_key(secret: str) -> str:
    """The development key for ``secret`` (deterministic; never used in production)."""
    digest = hmac.new(secret.encode("utf-8"), _DERIVATION_LABEL, hashlib.sha256).digest()
    # 256 bits mod (n - 1), plus 1: a valid scalar, bias ~2^-128 (irrelevant here).
    scalar = int.from_bytes(digest, "big") % (P256_ORDER - 1) + 1
    return b64url_encode(scalar.to_bytes(32, "big"))


def vapid_private_key() -> str:
    """The configured or derived private key (base64url scalar); ``""`` when push is off."""
    configured = str(settings.VAPID_PRIVATE_KEY or "").strip()
    if configured:
        return configured
    if settings.PRODUCTION:
        return ""
    return derive_private_key(str(settings.SECRET_KEY))


@lru_cache(maxsize=8)
def _load(private: str) -> ec.EllipticCurvePrivateKey:
    try:
        return vapid.load_private_key(private)
    except ValueError as exc:
        raise ValueError(
            "CITYHALL_VAPID_PRIVATE_KEY is not a P-256 private key (base64url of 32 bytes); "
            "make one with `cityhall generate_vapid_key`"
        ) from exc


def signing_key() -> ec.EllipticCurvePrivateKey | None:
    """The private key object, or ``None`` when web push is off."""
    private = vapid_private_key()
    return _load(private) if private else None


@lru_cache(maxsize=8)
def _public(private: str) -> str:
    return vapid.public_key_b64url(_load(private))


def vapid_public_key() -> str:
    """The ``applicationServerKey`` for the page (base64url uncompressed point), or ``""``."""
    private = vapid_private_key()
    return _public(private) if private else ""


def push_enabled() -> bool:
    return bool(vapid_private_key())
