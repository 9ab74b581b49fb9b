"""Voluntary Application Server Identification for Web Push (VAPID, RFC 8292).

Every push request carries ``Authorization: vapid t=<JWT>, k=<public key>``:

- ``t`` — a JWT (RFC 7519) signed with ES256 (ECDSA P-256 + SHA-256; the signature is
  the raw ``r || s``, 64 bytes, as JWS requires — not DER) with the claims ``aud`` (the
  push endpoint's origin), ``exp`` (at most 24 hours ahead) and ``sub`` (a ``mailto:``
  or ``https:`` contact);
- ``k`` — the server's public key, the uncompressed P-256 point in base64url; the
  browser was given the same key as ``applicationServerKey`` when it subscribed, so the
  push service accepts messages signed by this key only.

The private key is kept as the base64url of its 32-byte scalar.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cityhall.notices.webpush import b64url_decode, b64url_encode
from cityhall.notices.webpush.rfc8291 import public_bytes

__all__ = [
    "MAX_EXPIRY",
    "generate_private_key",
    "load_private_key",
    "origin",
    "private_key_b64url",
    "public_key_b64url",
    "sign_jwt",
    "vapid_header",
]

#: RFC 8292 §2: ``exp`` no more than 24 hours after the request.
MAX_EXPIRY = 24 * 3600
_DEFAULT_PORTS = {"https": 443, "http": 80}


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def load_private_key(scalar_b64url: str) -> ec.EllipticCurvePrivateKey:
    """The key whose 32-byte big-endian scalar is ``scalar_b64url``.

    Raises :class:`ValueError` when it is not base64url of a valid P-256 scalar.
    """
    raw = b64url_decode(scalar_b64url)
    if len(raw) != 32:
        raise ValueError("a VAPID private key is the base64url of a 32-byte scalar")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def private_key_b64url(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key_b64url(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    """The ``applicationServerKey`` / ``k``: the uncompressed point in base64url (87 chars)."""
    return b64url_encode(public_bytes(key))


def origin(endpoint: str) -> str:
    """The ASCII origin of a push endpoint (``https://push.example.net``, port if not default)."""
    parts = urlsplit(endpoint)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("a push endpoint is an absolute http(s) URL")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def sign_jwt(claims: dict[str, object], key: ec.EllipticCurvePrivateKey) -> str:
    """A compact JWS (ES256) of ``claims``."""
    header = {"typ": "JWT", "alg": "ES256"}
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, claims)
    )
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{b64url_encode(signature)}"


def vapid_header(
    endpoint: str,
    private_key: ec.EllipticCurvePrivateKey | str,
    subject: str,
    *,
    expires_in: int = 12 * 3600,
    now: float | None = None,
) -> str:
    """The ``Authorization`` header value for a push request to ``endpoint``."""
    if not 0 < expires_in <= MAX_EXPIRY:
        raise ValueError("a VAPID token expires within 24 hours")
    if not subject.startswith(("mailto:", "https:")):
        raise ValueError("the VAPID subject is a mailto: or https: URI")
    key = load_private_key(private_key) if isinstance(private_key, str) else private_key
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "aud": origin(endpoint),
        "exp": issued + expires_in,
        "sub": subject,
    }
    return f"vapid t={sign_jwt(claims, key)}, k={public_key_b64url(key)}"
