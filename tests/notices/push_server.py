"""A Web Push service on loopback that checks what a real one checks, and more.

A real HTTP server (``ThreadingHTTPServer`` in a thread on a free port). Each browser
subscription made with :meth:`PushServer.subscribe` gets its own endpoint
``http://127.0.0.1:<port>/push/<id>`` and, like a browser, its own P-256 key pair and
16-byte auth secret. A ``POST`` to an endpoint must carry (RFC 8030, 8291, 8292):

- ``TTL`` (a non-negative integer), ``Urgency`` (one of RFC 8030's four), ``Content-Encoding:
  aes128gcm``, a body of at most 4096 bytes;
- ``Authorization: vapid t=<JWT>, k=<key>`` whose JWT is ES256-signed (raw r||s) by ``k``
  — checked here with ``cryptography``, not with the code under test — and whose claims
  say ``aud`` = this server's origin, ``exp`` in the future and at most 24 hours ahead,
  ``sub`` a ``mailto:`` or ``https:`` URI; when the subscription was made with an
  ``application_server_key``, ``k`` must be that key (as a browser's push service
  insists);
- a body that the independent ``http_ece`` library DECRYPTS with the subscription's
  private key and auth secret.

What was accepted is kept in :attr:`received` (headers, plaintext, parsed JSON); what was
refused in :attr:`refused` with the reason. Faults on demand: :meth:`answer_next` (the
next requests answer 429/500/…), :meth:`expire` (the endpoint answers 410 Gone from now
on, as a push service does for an unsubscribed browser).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.conftest import free_port

URGENCIES = {"very-low", "low", "normal", "high"}


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def point(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class BrowserSubscription:
    """What a browser keeps: its endpoint, its key pair and its auth secret."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str = ""

    @property
    def p256dh(self) -> str:
        return b64e(point(self.private_key))

    @property
    def auth(self) -> str:
        return b64e(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """As ``PushSubscription.toJSON()`` gives it to the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass
class Received:
    subscription_id: str
    headers: dict[str, str]
    body: bytes
    plaintext: bytes
    claims: dict[str, Any]

    @property
    def message(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.plaintext)
        return data


def verify_vapid(header: str, origin: str, now: float | None = None) -> tuple[str, dict[str, Any]]:
    """``(k, claims)`` of a valid ``vapid`` Authorization header; ``ValueError`` otherwise."""
    if not header.startswith("vapid "):
        raise ValueError("Authorization is not the vapid scheme")
    params: dict[str, str] = {}
    for part in header[len("vapid ") :].split(","):
        name, _, value = part.strip().partition("=")
        params[name.strip()] = value.strip()
    token, key = params.get("t", ""), params.get("k", "")
    if not token or not key:
        raise ValueError("vapid needs t= and k=")
    pieces = token.split(".")
    if len(pieces) != 3:
        raise ValueError("t is not a compact JWS")
    header_json = json.loads(b64d(pieces[0]))
    if header_json.get("alg") != "ES256":
        raise ValueError("JWT alg is not ES256")
    signature = b64d(pieces[2])
    if len(signature) != 64:
        raise ValueError("ES256 signature is not 64 bytes (raw r||s)")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, f"{pieces[0]}.{pieces[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ValueError("JWT signature does not verify with k") from exc
    claims: dict[str, Any] = json.loads(b64d(pieces[1]))
    now = time.time() if now is None else now
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600 + 60:
        raise ValueError("exp is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("sub is not a mailto: or https: URI")
    return key, claims


@dataclass
class PushServer:
    subscriptions: dict[str, BrowserSubscription] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    _faults: list[int] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    port: int = 0

    def start(self) -> PushServer:
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- what tests use -----------------------------------------------------------------

    def subscribe(self, application_server_key: str = "") -> BrowserSubscription:
        """A new browser subscription on this service (as ``pushManager.subscribe``)."""
        with self._lock:
            sub_id = f"s{next(self._ids)}"
        sub = BrowserSubscription(
            id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
            application_server_key=application_server_key,
        )
        self.subscriptions[sub_id] = sub
        return sub

    def answer_next(self, status: int, count: int = 1) -> None:
        """The next ``count`` pushes (to any endpoint) answer ``status`` and are dropped."""
        with self._lock:
            self._faults.extend([status] * count)

    def expire(self, sub: BrowserSubscription) -> None:
        """The browser unsubscribed: its endpoint answers 410 Gone from now on."""
        self.expired.add(sub.id)

    def messages_for(self, sub: BrowserSubscription) -> list[dict[str, Any]]:
        return [r.message for r in self.received if r.subscription_id == sub.id]

    # --- the contract -------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "push" or parts[1] not in self.subscriptions:
            return self._refuse(path, 404, "no such subscription")
        sub = self.subscriptions[parts[1]]
        with self._lock:
            if sub.id in self.expired:
                return self._refuse(path, 410, "subscription expired")
            if self._faults:
                return self._refuse(path, self._faults.pop(0), "injected fault")
        ttl = headers.get("ttl", "")
        if not ttl.isdigit():
            return self._refuse(path, 400, "TTL header missing or not an integer")
        if headers.get("urgency", "normal") not in URGENCIES:
            return self._refuse(path, 400, "bad Urgency")
        if headers.get("content-encoding") != "aes128gcm":
            return self._refuse(path, 415, "Content-Encoding is not aes128gcm")
        if len(body) > 4096:
            return self._refuse(path, 413, "payload too large")
        try:
            key, claims = verify_vapid(headers.get("authorization", ""), self.origin)
        except (ValueError, KeyError, TypeError) as exc:
            return self._refuse(path, 401, f"VAPID: {exc}")
        if sub.application_server_key and key != sub.application_server_key:
            return self._refuse(path, 403, "VAPID key is not the subscription's")
        try:
            plaintext = http_ece.decrypt(
                body,
                private_key=sub.private_key,
                auth_secret=sub.auth_secret,
                version="aes128gcm",
            )
        except Exception as exc:  # http_ece raises its own ECEException and others
            return self._refuse(path, 400, f"cannot decrypt: {exc}")
        with self._lock:
            self.received.append(Received(sub.id, dict(headers), body, plaintext, claims))
            n = len(self.received)
        return 201, f"/message/{n}"

    def _refuse(self, path: str, status: int, reason: str) -> tuple[int, str]:
        self.refused.append((path, status, reason))
        return status, ""


def _handler(server: PushServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, location = server.handle(self.path, headers, body)
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
