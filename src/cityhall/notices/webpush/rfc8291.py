"""Message Encryption for Web Push (RFC 8291) with the ``aes128gcm`` coding (RFC 8188).

The application server (us) makes a fresh P-256 key pair and a random 16-byte salt for
every message, agrees a secret with the browser's ``p256dh`` key (ECDH), and mixes in
the subscription's 16-byte ``auth`` secret (RFC 8291 §3.3–3.4)::

    ecdh_secret = ECDH(as_private, ua_public)
    IKM   = HKDF(salt=auth_secret, ikm=ecdh_secret,
                 info="WebPush: info" || 0x00 || ua_public || as_public, L=32)
    CEK   = HKDF(salt=salt, ikm=IKM, info="Content-Encoding: aes128gcm" || 0x00, L=16)
    NONCE = HKDF(salt=salt, ikm=IKM, info="Content-Encoding: nonce" || 0x00, L=12)

The body is the RFC 8188 header ``salt(16) || rs(4) || idlen(1) || keyid`` — the key id
is ``as_public``, 65 bytes, the uncompressed point — followed by ONE record: AES-128-GCM
of ``plaintext || 0x02`` (the padding delimiter of a last record; no further padding).

:func:`decrypt` is the browser's side, for tests and the loopback push endpoint.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cityhall.notices.webpush import b64url_decode

__all__ = [
    "HEADER_LENGTH",
    "MAX_BODY",
    "MAX_PLAINTEXT",
    "RECORD_SIZE",
    "DecryptionError",
    "decrypt",
    "encrypt",
    "public_bytes",
]

#: The record size we announce (RFC 8291 §4: push services must accept 4096-byte bodies).
RECORD_SIZE = 4096
#: salt(16) + rs(4) + idlen(1) + keyid(65).
HEADER_LENGTH = 16 + 4 + 1 + 65
TAG_LENGTH = 16
#: The largest body a push service must accept (RFC 8030 §7.2, RFC 8291 §4).
MAX_BODY = 4096
#: The largest plaintext that fits one record in a ``MAX_BODY`` body (3993 bytes).
MAX_PLAINTEXT = MAX_BODY - HEADER_LENGTH - TAG_LENGTH - 1

KEY_INFO = b"WebPush: info\x00"
CEK_INFO = b"Content-Encoding: aes128gcm\x00"
NONCE_INFO = b"Content-Encoding: nonce\x00"
LAST_RECORD = b"\x02"
OTHER_RECORD = b"\x01"


class DecryptionError(ValueError):
    """The body is not an ``aes128gcm`` message for this key and secret."""


def public_bytes(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point (``0x04 || X || Y``, 65 bytes) of a P-256 key."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def load_public_key(point: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its 65-byte uncompressed point; :class:`ValueError` if not one."""
    if len(point) != 65 or point[0] != 0x04:
        raise ValueError("a P-256 public key is a 65-byte uncompressed point")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _keys(
    ecdh_secret: bytes, auth: bytes, ua_public: bytes, as_public: bytes, salt: bytes
) -> tuple[bytes, bytes]:
    ikm = _hkdf(auth, ecdh_secret, KEY_INFO + ua_public + as_public, 32)
    return _hkdf(salt, ikm, CEK_INFO, 16), _hkdf(salt, ikm, NONCE_INFO, 12)


def encrypt(
    plaintext: bytes,
    ua_public_b64url: str,
    auth_b64url: str,
    *,
    salt: bytes | None = None,
    as_private: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """The ``aes128gcm`` body carrying ``plaintext`` to the subscription's browser.

    ``ua_public_b64url`` and ``auth_b64url`` are the subscription's ``p256dh`` and
    ``auth`` keys. ``salt`` and ``as_private`` are random per message; pass them only
    to reproduce a known vector. Raises :class:`ValueError` for bad keys or a plaintext
    longer than :data:`MAX_PLAINTEXT`.
    """
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError(f"a push message carries at most {MAX_PLAINTEXT} bytes")
    ua_public = b64url_decode(ua_public_b64url)
    auth = b64url_decode(auth_b64url)
    if len(auth) != 16:
        raise ValueError("the auth secret is 16 bytes")
    ua_key = load_public_key(ua_public)
    if salt is None:
        salt = os.urandom(16)
    if len(salt) != 16:
        raise ValueError("the salt is 16 bytes")
    if as_private is None:
        as_private = ec.generate_private_key(ec.SECP256R1())
    as_public = public_bytes(as_private)
    ecdh_secret = as_private.exchange(ec.ECDH(), ua_key)
    cek, nonce = _keys(ecdh_secret, auth, ua_public, as_public, salt)
    record = AESGCM(cek).encrypt(nonce, plaintext + LAST_RECORD, None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
    return header + record


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """The plaintext of an ``aes128gcm`` Web Push body (what the browser does).

    Reads every record (a body from another sender may have several) and strips the
    padding. Raises :class:`DecryptionError` when the body is malformed or does not
    authenticate under this key and secret.
    """
    if len(body) < 21:
        raise DecryptionError("body shorter than the aes128gcm header")
    salt = body[:16]
    rs, idlen = struct.unpack("!IB", body[16:21])
    if rs < 18:
        raise DecryptionError("record size too small")
    as_public = body[21 : 21 + idlen]
    try:
        as_key = load_public_key(as_public)
    except ValueError as exc:
        raise DecryptionError("the key id is not the sender's P-256 public key") from exc
    ecdh_secret = ua_private.exchange(ec.ECDH(), as_key)
    cek, nonce = _keys(ecdh_secret, auth, public_bytes(ua_private), as_public, salt)
    aead = AESGCM(cek)
    content = body[21 + idlen :]
    if not content:
        raise DecryptionError("no records")
    records = [content[i : i + rs] for i in range(0, len(content), rs)]
    out = bytearray()
    for seq, record in enumerate(records):
        iv = (int.from_bytes(nonce, "big") ^ seq).to_bytes(12, "big")
        try:
            padded = aead.decrypt(iv, record, None)
        except InvalidTag as exc:
            raise DecryptionError("the record does not authenticate") from exc
        stripped = padded.rstrip(b"\x00")
        last = seq == len(records) - 1
        if not stripped or stripped[-1:] != (LAST_RECORD if last else OTHER_RECORD):
            raise DecryptionError("bad padding delimiter")
        out += stripped[:-1]
    return bytes(out)
