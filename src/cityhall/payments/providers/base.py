"""What every online payment provider adapter speaks: the hosted-payment contract.

The contract is written down in ``docs/payments/online.md``. In short (GOV.UK Pay's
shape, Stripe's webhook signature):

- ``create_payment`` sends the resident's payment to the provider with an
  ``Idempotency-Key``; the answer carries the provider's id, a ``state`` and the
  ``next_url`` of its hosted payment page.
- ``get_payment`` asks the provider where a payment stands. The return address and the
  webhooks never change a state on their own word: the service asks the provider.
- ``refund`` gives back all or part of a successful payment (idempotent by key).
- ``verify_webhook`` checks ``Cityhall-Signature: t=<unix>,v1=<hex>`` — an HMAC-SHA256
  of ``t + "." + body`` under the shared secret — and the age of ``t`` (5 minutes at
  most), then parses the event.

This module has no Django import: the adapters get their settings passed in, so they
can be tested against a provider server on loopback without a request in sight.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The header that carries the webhook signature.
SIGNATURE_HEADER = "Cityhall-Signature"
#: Webhooks signed longer ago than this (seconds) are refused (replays).
WEBHOOK_TOLERANCE_S = 300

#: The provider's payment statuses (GOV.UK Pay's names).
STATUSES = ("created", "started", "submitted", "success", "failed", "cancelled", "error")
FINISHED_STATUSES = frozenset({"success", "failed", "cancelled", "error"})
REFUND_STATUSES = ("submitted", "success", "error")
EVENT_TYPES = (
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "refund.succeeded",
    "refund.failed",
)


class ProviderError(Exception):
    """The provider could not be reached or refused the request.

    ``retryable`` says whether the same request (with the same idempotency key) may be
    sent again later: true for timeouts, refused connections, 5xx, 409 and 429;
    false for a request the provider rejected (4xx) or a provider not configured.
    """

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


class WebhookError(Exception):
    """A webhook that must be refused: no signature, a wrong one, too old, unreadable."""


@dataclass(frozen=True)
class PaymentRequest:
    """What we ask the provider to collect. ``amount`` is integer yen."""

    amount: int
    reference: str
    description: str
    return_url: str
    metadata: dict[str, str] = field(default_factory=dict)
    currency: str = "JPY"

    def body(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "currency": self.currency,
            "reference": self.reference,
            "description": self.description,
            "return_url": self.return_url,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PaymentRequest:
        return cls(
            amount=int(body["amount"]),
            reference=str(body["reference"]),
            description=str(body["description"]),
            return_url=str(body["return_url"]),
            metadata={str(k): str(v) for k, v in dict(body.get("metadata") or {}).items()},
            currency=str(body.get("currency", "JPY")),
        )


@dataclass(frozen=True)
class ProviderState:
    status: str
    finished: bool
    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class ProviderPayment:
    payment_id: str
    state: ProviderState
    next_url: str = ""
    amount: int | None = None
    method: str = ""


@dataclass(frozen=True)
class ProviderRefund:
    refund_id: str
    status: str
    amount: int | None = None


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    type: str
    payment_id: str
    refund_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(ABC):
    """One online payment provider. ``name`` is the slug in the webhook address."""

    name: str = ""

    @abstractmethod
    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> ProviderPayment:
        """Create the payment (or, for a key already used with the same body, return it)."""

    @abstractmethod
    def get_payment(self, payment_id: str) -> ProviderPayment:
        """Where the payment stands now, according to the provider."""

    @abstractmethod
    def refund(self, payment_id: str, amount: int, *, idempotency_key: str) -> ProviderRefund:
        """Give back ``amount`` yen of a successful payment."""

    @abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """The event in a webhook whose signature is right and recent; else WebhookError."""


# --- parsing the contract's JSON -----------------------------------------------------------


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} is not an integer")
    return value


def parse_payment(data: Any) -> ProviderPayment:
    """A payment object of the contract; ``ValueError`` when it does not fit."""
    if not isinstance(data, dict):
        raise ValueError("payment is not an object")
    payment_id = data.get("payment_id")
    state = data.get("state")
    if not isinstance(payment_id, str) or not payment_id or len(payment_id) > 80:
        raise ValueError("payment_id is missing")
    if not isinstance(state, dict) or state.get("status") not in STATUSES:
        raise ValueError("state.status is missing or unknown")
    status = str(state["status"])
    next_url = data.get("next_url") or ""
    if not isinstance(next_url, str) or (
        next_url and not next_url.startswith(("https://", "http://"))
    ):
        raise ValueError("next_url is not an http(s) address")
    amount = data.get("amount")
    return ProviderPayment(
        payment_id=payment_id,
        state=ProviderState(
            status=status,
            finished=bool(state.get("finished", status in FINISHED_STATUSES)),
            code=str(state.get("code") or "")[:40],
            message=str(state.get("message") or "")[:160],
        ),
        next_url=next_url,
        amount=None if amount is None else _int(amount, "amount"),
        method=str(data.get("method") or "")[:20],
    )


def parse_refund(data: Any) -> ProviderRefund:
    if not isinstance(data, dict):
        raise ValueError("refund is not an object")
    refund_id = data.get("refund_id")
    status = data.get("status")
    if not isinstance(refund_id, str) or not refund_id or len(refund_id) > 80:
        raise ValueError("refund_id is missing")
    if status not in REFUND_STATUSES:
        raise ValueError("refund status is missing or unknown")
    amount = data.get("amount")
    return ProviderRefund(
        refund_id=refund_id,
        status=str(status),
        amount=None if amount is None else _int(amount, "amount"),
    )


# --- webhook signatures (Stripe's scheme under our header name) ---------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Cityhall-Signature`` header value for ``body`` (for providers and tests)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = WEBHOOK_TOLERANCE_S,
) -> None:
    """Raise :class:`WebhookError` unless the body carries a right and recent signature.

    Several ``v1=`` values may be given (the provider rotating its secret); one match is
    enough. The timestamp may not be older than ``tolerance`` seconds, nor more than that
    in the future (a clock far ahead would let a captured webhook live on).
    """
    if not secret:
        raise WebhookError("no webhook secret is configured: every webhook is refused")
    header = _header(headers, SIGNATURE_HEADER)
    if not header:
        raise WebhookError(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookError(f"the {SIGNATURE_HEADER} header has no t= or no v1=")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookError("the webhook's timestamp is too old (or in the future)")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookError("the webhook's signature does not match")


def parse_event(body: bytes) -> WebhookEvent:
    """The event of a (verified) webhook body; ``WebhookError`` when it does not fit."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError("the webhook body is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookError("the webhook body is not an object")
    event_id = data.get("event_id")
    kind = data.get("type")
    payment_id = data.get("payment_id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 80:
        raise WebhookError("event_id is missing")
    if kind not in EVENT_TYPES:
        raise WebhookError("type is missing or unknown")
    if not isinstance(payment_id, str) or not payment_id:
        raise WebhookError("payment_id is missing")
    refund_id = data.get("refund_id") or ""
    if kind.startswith("refund.") and not (isinstance(refund_id, str) and refund_id):
        raise WebhookError("refund_id is missing")
    return WebhookEvent(
        event_id=event_id,
        type=str(kind),
        payment_id=payment_id,
        refund_id=str(refund_id),
        data=data,
    )


def verify_and_parse(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> WebhookEvent:
    verify_signature(secret, headers, body, now=now)
    return parse_event(body)
