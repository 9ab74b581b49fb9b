"""LINE on loopback: the Messaging API and LINE Login, as LINE's documentation says.

A real HTTP server (``ThreadingHTTPServer`` in a thread on a free port):

- ``POST /v2/bot/message/push`` and ``POST /v2/bot/message/multicast``: the channel access
  token as ``Authorization: Bearer`` (401 otherwise); JSON body ``{"to", "messages"}``
  with 1–5 messages, text messages of at most 5,000 characters (UTF-16 units), ``to`` a
  user id (push) or a list of 1–500 user ids (multicast) — 400 with LINE's error body
  (``message`` + ``details``) otherwise. ``X-Line-Retry-Key`` must be a UUID; a key
  already accepted answers 409 with ``x-line-accepted-request-id`` and delivers nothing.
  Accepted requests answer 200 with ``x-line-request-id`` and are recorded in
  :attr:`LineServer.accepted` and :attr:`LineServer.delivered` (one row per recipient).
- Faults: :meth:`fail_next` (answer a status, e.g. 500 or 429, doing nothing) and
  :meth:`lose_next_answers` (deliver, then answer 500 as if the reply was lost).
- LINE Login: ``GET /oauth2/v2.1/authorize`` answers 302 to ``redirect_uri`` with
  ``code`` and ``state`` (as if the user agreed; :attr:`login_user` is who logged in);
  ``POST /oauth2/v2.1/token`` (form: grant_type, code, redirect_uri, client_id,
  client_secret) gives an access token once per code; ``GET /v2/profile`` with that token
  answers ``userId``, ``displayName``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.conftest import free_port

MAX_TEXT = 5000
MAX_MULTICAST = 500


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class LineServer:
    token: str = "test-line-token"
    channel_secret: str = "test-line-secret"
    login_channel_id: str = "1650000000"
    login_channel_secret: str = "test-login-secret"
    login_user: dict[str, str] = field(
        default_factory=lambda: {"userId": "U" + "a" * 32, "displayName": "伊賀 花子"}
    )
    seen: list[Request] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)
    authorized: list[dict[str, str]] = field(default_factory=list)
    _retry_keys: dict[str, str] = field(default_factory=dict)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    _fail: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _lose: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    port: int = 0

    # --- life ---------------------------------------------------------------------------

    def start(self) -> LineServer:
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

    # --- faults -------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500, retry_after: str = "") -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._lock:
            self._fail.extend([(status, headers)] * count)

    def lose_next_answers(self, count: int = 1) -> None:
        with self._lock:
            self._lose += count

    # --- helpers for tests --------------------------------------------------------------

    def webhook(self, events: list[dict[str, Any]], secret: str | None = None) -> tuple[bytes, str]:
        """A webhook body as LINE sends it, and its ``x-line-signature``."""
        body = json.dumps({"destination": "U" + "0" * 32, "events": events}).encode()
        return body, sign(self.channel_secret if secret is None else secret, body)

    # --- Messaging API ------------------------------------------------------------------

    def message_api(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.seen.append(Request("POST", path, headers, body))
            if headers.get("authorization") != f"Bearer {self.token}":
                return (
                    401,
                    {
                        "message": "Authentication failed. Confirm that the access "
                        "token in the authorization header is valid."
                    },
                    {},
                )
            if self._fail:
                status, extra = self._fail.pop(0)
                return status, {"message": "injected failure"}, extra
            problem = _check(path, body)
            if problem is not None:
                return 400, problem, {}
            retry = headers.get("x-line-retry-key", "")
            if retry:
                try:
                    uuid.UUID(retry)
                except ValueError:
                    return (
                        400,
                        {"message": "The value for the 'X-Line-Retry-Key' header is invalid"},
                        {},
                    )
                if retry in self._retry_keys:
                    return (
                        409,
                        {"message": "The retry key is already accepted"},
                        {"x-line-accepted-request-id": self._retry_keys[retry]},
                    )
            request_id = str(uuid.uuid4())
            if retry:
                self._retry_keys[retry] = request_id
            assert isinstance(body, dict)  # checked by _check
            self.accepted.append(Request("POST", path, headers, body))
            recipients = [body["to"]] if isinstance(body["to"], str) else list(body["to"])
            for recipient in recipients:
                for message in body["messages"]:
                    self.delivered.append((recipient, message.get("text", "")))
            answer: dict[str, Any] = {}
            if path.endswith("/push"):
                answer = {"sentMessages": [{"id": secrets.token_hex(8)} for _ in body["messages"]]}
            if self._lose:
                self._lose -= 1
                return 500, {"message": "the answer was lost"}, {}
            return 200, answer, {"x-line-request-id": request_id}

    # --- LINE Login ---------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            self.authorized.append(query)
            if query.get("response_type") != "code" or query.get("client_id") != (
                self.login_channel_id
            ):
                return 400, ""
            if "openid" not in query.get("scope", "").split() or not query.get("state"):
                return 400, ""
            redirect_uri = query.get("redirect_uri", "")
            if not redirect_uri.startswith("http"):
                return 400, ""
            code = secrets.token_urlsafe(16)
            self._codes[code] = {
                "redirect_uri": redirect_uri,
                "client_id": query["client_id"],
                "nonce": query.get("nonce", ""),
            }
        return 302, redirect_uri + "?" + urlencode({"code": code, "state": query["state"]})

    def token_endpoint(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if form.get("grant_type") != "authorization_code":
                return 400, {"error": "unsupported_grant_type"}
            if (
                form.get("client_id") != self.login_channel_id
                or form.get("client_secret") != self.login_channel_secret
            ):
                return 401, {"error": "invalid_client"}
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "invalid code"}
            access_token = secrets.token_urlsafe(24)
            self._tokens[access_token] = dict(self.login_user)
        return 200, {
            "access_token": access_token,
            "expires_in": 2592000,
            "id_token": "not.checked.here",
            "refresh_token": secrets.token_urlsafe(16),
            "scope": "profile openid",
            "token_type": "Bearer",
        }

    def profile(self, authorization: str) -> tuple[int, dict[str, Any]]:
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            user = self._tokens.get(token)
        if user is None:
            return 401, {"message": "invalid token"}
        return 200, {**user, "pictureUrl": "https://profile.line-scdn.net/example"}


def _check(path: str, body: Any) -> dict[str, Any] | None:
    """LINE's 400 body for a request that breaks the contract, else ``None``."""
    details: list[dict[str, str]] = []
    if not isinstance(body, dict):
        return {
            "message": "The request body has 1 error(s)",
            "details": [{"message": "must be a JSON object", "property": ""}],
        }
    to = body.get("to")
    if path.endswith("/push"):
        if not isinstance(to, str) or not to:
            details.append({"message": "must be specified", "property": "to"})
    elif path.endswith("/multicast"):
        if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
            details.append({"message": "must be a non-empty list", "property": "to"})
        elif len(to) > MAX_MULTICAST:
            details.append({"message": "Size must be between 1 and 500", "property": "to"})
    else:
        return {"message": "Not found"}
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        details.append({"message": "Size must be between 1 and 5", "property": "messages"})
    else:
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("type") != "text":
                details.append(
                    {"message": "must be a text message", "property": f"messages[{index}].type"}
                )
                continue
            text = message.get("text")
            if not isinstance(text, str) or not text:
                details.append(
                    {"message": "must be specified", "property": f"messages[{index}].text"}
                )
            elif utf16_length(text) > MAX_TEXT:
                details.append(
                    {
                        "message": "Length must be between 0 and 5000",
                        "property": f"messages[{index}].text",
                    }
                )
    if details:
        return {"message": f"The request body has {len(details)} error(s)", "details": details}
    return None


def _handler(line: LineServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            self._send(
                status,
                json.dumps(data).encode(),
                {"Content-Type": "application/json", **(headers or {})},
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path == "/oauth2/v2.1/token":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                status, data = line.token_endpoint(form)
                self._json(status, data)
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, data, extra = line.message_api(path, headers, raw)
            self._json(status, data, extra)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/oauth2/v2.1/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, location = line.authorize(query)
                if status == 302:
                    self._send(302, b"", {"Location": location})
                else:
                    self._send(400, b"bad authorization request")
                return
            if url.path == "/v2/profile":
                status, data = line.profile(self.headers.get("Authorization", ""))
                self._json(status, data)
                return
            self._json(404, {"message": "Not found"})

    return Handler
