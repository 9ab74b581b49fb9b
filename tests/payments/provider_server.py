"""A payment provider on loopback that speaks the hosted-payment contract (docs/payments/online.md).

A real HTTP server (``ThreadingHTTPServer`` in a thread on a free port) that keeps its
payments in memory:

- ``POST /v1/payments`` (Bearer key, ``Idempotency-Key``) → 201 with ``payment_id``,
  ``state`` and ``next_url``; ``GET /v1/payments/<id>``; ``POST /v1/payments/<id>/refunds``
  → 202 with ``refund_id`` and ``status``.
- Idempotency as real providers do it: the same key with the same request gives the
  stored answer again; the same key with another request is refused with 422.
- ``next_url`` is ``/pay/<id>`` on this server: a test "pays" with
  ``GET /pay/<id>?outcome=success|failed|cancelled``, which moves the payment, sends a
  signed webhook to :attr:`webhook_url` when one is set (our live server), and answers
  303 to the payment's ``return_url`` — as a provider's hosted page does.
- Faults on demand: :meth:`fail_next` (answer 5xx without doing anything) and
  :meth:`lose_next_answers` (do it, then answer 500 as if the reply was lost).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from cityhall.payments.providers.base import SIGNATURE_HEADER, sign
from tests.conftest import free_port

FINISHED = {"success", "failed", "cancelled", "error"}
OUTCOME_STATE = {
    "success": ("success", "", ""),
    "failed": ("failed", "P0010", "Payment method rejected"),
    "cancelled": ("cancelled", "P0030", "Payment was cancelled by the user"),
    "error": ("error", "P0050", "Payment provider returned an error"),
}


@dataclass
class Seen:
    method: str
    path: str
    key: str
    body: Any


@dataclass
class ProviderServer:
    api_key: str = "test-api-key"
    webhook_secret: str = "test-webhook-secret"
    #: What a refund answers at once: ``success`` or ``submitted`` (a webhook later).
    refund_status: str = "success"
    webhook_url: str = ""
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    webhooks_sent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _keys: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _fail: list[int] = field(default_factory=list)
    _lose: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    # --- life ---------------------------------------------------------------------------

    def start(self) -> ProviderServer:
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    # --- faults -------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next ``count`` API calls answer ``status`` and do nothing."""
        with self._lock:
            self._fail.extend([status] * count)

    def lose_next_answers(self, count: int = 1) -> None:
        """The next ``count`` API calls are carried out, but answer 500 (reply lost)."""
        with self._lock:
            self._lose += count

    # --- what tests use -----------------------------------------------------------------

    def created(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST" and s.path == "/v1/payments"]

    def set_status(self, payment_id: str, status: str) -> None:
        with self._lock:
            payment = self.payments[payment_id]
            payment["state"] = _state(status, "", "")

    def event(
        self,
        payment_id: str,
        kind: str = "payment.succeeded",
        *,
        refund_id: str = "",
        event_id: str = "",
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A webhook as this provider signs it: (headers, body)."""
        body: dict[str, Any] = {
            "event_id": event_id or "evt_" + secrets.token_hex(8),
            "type": kind,
            "payment_id": payment_id,
        }
        if refund_id:
            body["refund_id"] = refund_id
        raw = json.dumps(body).encode()
        header = sign(self.webhook_secret if secret is None else secret, raw, timestamp=timestamp)
        return {SIGNATURE_HEADER: header, "Content-Type": "application/json"}, raw

    def send_webhook(self, payment_id: str, kind: str, *, refund_id: str = "") -> None:
        if not self.webhook_url:
            return
        headers, body = self.event(payment_id, kind, refund_id=refund_id)
        response = requests.post(self.webhook_url, data=body, headers=headers, timeout=30)
        self.webhooks_sent.append((response.status_code, json.loads(body)))

    # --- the contract -------------------------------------------------------------------

    def handle_api(
        self, method: str, path: str, key: str, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"title": "body is not JSON"}
        with self._lock:
            self.seen.append(Seen(method, path, key, body))
            if self._fail:
                status = self._fail.pop(0)
                return status, {"title": "injected failure"}
            if method == "POST":
                if not key:
                    return 400, {"title": "Idempotency-Key is required"}
                fingerprint = hashlib.sha256(
                    f"{method} {path} ".encode() + json.dumps(body, sort_keys=True).encode()
                ).hexdigest()
                if key in self._keys:
                    stored_fp, stored_status, stored_body = self._keys[key]
                    if stored_fp != fingerprint:
                        return 422, {"title": "Idempotency-Key reused with another request"}
                    return self._maybe_lose(stored_status, stored_body)
                status, answer = self._post(path, body)
                if status < 500:
                    self._keys[key] = (fingerprint, status, answer)
                return self._maybe_lose(status, answer)
            return self._get(path)

    def _maybe_lose(self, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self._lose:
            self._lose -= 1
            return 500, {"title": "the answer was lost"}
        return status, body

    def _post(self, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts == ["v1", "payments"]:
            return self._create(body)
        if len(parts) == 4 and parts[:2] == ["v1", "payments"] and parts[3] == "refunds":
            return self._refund(parts[2], body)
        return 404, {"title": "not found"}

    def _get(self, path: str) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["v1", "payments"] and parts[2] in self.payments:
            return 200, self._view(self.payments[parts[2]])
        return 404, {"title": "not found"}

    def _create(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            return 422, {"title": "body must be an object"}
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return 422, {"title": "amount must be a positive integer"}
        if body.get("currency") != "JPY" or not str(body.get("return_url", "")).startswith("http"):
            return 422, {"title": "currency must be JPY and return_url an address"}
        payment_id = "pay_" + secrets.token_hex(10)
        self.payments[payment_id] = {
            "payment_id": payment_id,
            "amount": amount,
            "reference": body.get("reference"),
            "description": body.get("description"),
            "return_url": body["return_url"],
            "metadata": body.get("metadata") or {},
            "state": _state("created", "", ""),
            "refunded": 0,
            "next_url": f"{self.origin}/pay/{payment_id}",
        }
        return 201, self._view(self.payments[payment_id])

    def _refund(self, payment_id: str, body: Any) -> tuple[int, dict[str, Any]]:
        payment = self.payments.get(payment_id)
        if payment is None:
            return 404, {"title": "not found"}
        amount = body.get("amount") if isinstance(body, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return 422, {"title": "amount must be a positive integer"}
        if payment["state"]["status"] != "success":
            return 422, {"title": "only a successful payment can be refunded"}
        if payment["refunded"] + amount > payment["amount"]:
            return 422, {"title": "more than what is left to refund"}
        payment["refunded"] += amount
        refund_id = "rfd_" + secrets.token_hex(8)
        self.refunds[refund_id] = {"payment_id": payment_id, "amount": amount}
        return 202, {"refund_id": refund_id, "status": self.refund_status, "amount": amount}

    @staticmethod
    def _view(payment: dict[str, Any]) -> dict[str, Any]:
        finished = payment["state"]["finished"]
        return {
            "payment_id": payment["payment_id"],
            "amount": payment["amount"],
            "currency": "JPY",
            "reference": payment["reference"],
            "state": dict(payment["state"]),
            "next_url": "" if finished else payment["next_url"],
            "method": "card" if payment["state"]["status"] == "success" else "",
        }

    def pay_page(self, payment_id: str, outcome: str) -> tuple[int, str]:
        """The hosted page: with an outcome, finish the payment and send the resident back."""
        with self._lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return 404, ""
            if not outcome:
                if payment["state"]["status"] == "created":
                    payment["state"] = _state("started", "", "")
                return 200, ""
            if outcome not in OUTCOME_STATE:
                return 400, ""
            changed = not payment["state"]["finished"]
            if changed:
                payment["state"] = _state(*OUTCOME_STATE[outcome])
        if changed and outcome in ("success", "failed", "cancelled"):
            self.send_webhook(
                payment_id, f"payment.{'succeeded' if outcome == 'success' else outcome}"
            )
        return 303, payment["return_url"]


def _state(status: str, code: str, message: str) -> dict[str, Any]:
    state: dict[str, Any] = {"status": status, "finished": status in FINISHED}
    if code:
        state["code"] = code
    if message:
        state["message"] = message
    return state


def _handler(provider: ProviderServer) -> type[BaseHTTPRequestHandler]:
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

        def _json(self, status: int, data: dict[str, Any]) -> None:
            self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

        def _api(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Authorization") != f"Bearer {provider.api_key}":
                self._json(401, {"title": "bad API key"})
                return
            path = urlsplit(self.path).path
            status, data = provider.handle_api(
                method, path, self.headers.get("Idempotency-Key", ""), raw
            )
            self._json(status, data)

        def do_POST(self) -> None:
            self._api("POST")

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path.startswith("/pay/"):
                outcome = parse_qs(url.query).get("outcome", [""])[0]
                status, location = provider.pay_page(url.path.removeprefix("/pay/"), outcome)
                if status == 303:
                    self._send(303, b"", {"Location": location})
                else:
                    page = b"<!doctype html><title>Pay</title><p>Hosted payment page</p>"
                    self._send(status, page, {"Content-Type": "text/html"})
                return
            self._api("GET")

    return Handler
