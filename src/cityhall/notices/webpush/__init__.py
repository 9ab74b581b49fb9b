"""Web Push for the notices channels, framework-free (no Django, no other cityhall code).

- :mod:`.rfc8291` — Message Encryption for Web Push (RFC 8291) with the ``aes128gcm``
  content coding (RFC 8188);
- :mod:`.vapid` — Voluntary Application Server Identification (RFC 8292): the
  ``Authorization: vapid t=…, k=…`` header and the P-256 key helpers.

Keys and secrets travel as unpadded base64url text, as browsers hand them out
(``PushSubscription.toJSON()``); the helpers below convert.
"""

from __future__ import annotations

import base64

__all__ = ["b64url_decode", "b64url_encode"]


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), as Web Push and JOSE use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode base64url with or without padding; refuses other characters.

    Raises :class:`ValueError` on anything that is not base64url.
    """
    raw = text.encode("ascii") if isinstance(text, str) else bytes(text)
    body = raw.strip().rstrip(b"=")
    allowed = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if body.translate(None, allowed):
        raise ValueError("not base64url text")
    if len(body) % 4 == 1:
        raise ValueError("base64url text of impossible length")
    return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
