"""The ``sandbox`` provider: for ``make demo`` and tests without a provider. No money moves.

Its "hosted payment page" is our own page ``payments:sandbox`` (in the city's layout,
saying plainly "Test payment — no money moves") with Pay, Decline and Cancel buttons;
the choice is kept here and the resident is sent back to the return address, where the
service asks :meth:`SandboxProvider.get_payment` — exactly as with a real provider.

Its payments live in Django's cache (the database cache by default, shared by every
process) for a day. It honours idempotency keys like a real provider: the same key with
the same body gives the same payment, with another body a refusal.

It can never run in production: the settings refuse ``CITYHALL_PAYMENT_PROVIDER=sandbox``
when ``CITYHALL_ENV=production``, and the sandbox page answers 404 unless the sandbox is
the configured provider.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.urls import reverse

from cityhall.payments.providers.base import (
    FINISHED_STATUSES,
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderState,
    WebhookEvent,
    verify_and_parse,
)

TTL = 24 * 3600
PREFIX = "payments:sandbox:"
#: What the sandbox page's buttons do, and the state code/message each leaves.
OUTCOMES = {
    "success": ("success", "", ""),
    "failed": ("failed", "P0010", "Payment method rejected"),
    "cancelled": ("cancelled", "P0030", "Payment was cancelled by the user"),
}


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def load(payment_id: str) -> dict[str, Any] | None:
    """The sandbox's record of a payment (for its page), or None."""
    if not payment_id.startswith("sbx_") or len(payment_id) > 60:
        return None
    record = cache.get(PREFIX + payment_id)
    return record if isinstance(record, dict) else None


def _save(record: dict[str, Any]) -> None:
    cache.set(PREFIX + record["payment_id"], record, TTL)


def decide(payment_id: str, outcome: str) -> dict[str, Any]:
    """The resident pressed a button on the sandbox page. Finished payments stay as they are."""
    record = load(payment_id)
    if record is None:
        raise KeyError(payment_id)
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    if record["status"] not in FINISHED_STATUSES:
        status, code, message = OUTCOMES[outcome]
        record.update(status=status, code=code, message=message)
        if status == "success":
            record["method"] = "card"
        _save(record)
    return record


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def _payment(self, record: dict[str, Any]) -> ProviderPayment:
        status = record["status"]
        return ProviderPayment(
            payment_id=record["payment_id"],
            state=ProviderState(
                status=status,
                finished=status in FINISHED_STATUSES,
                code=record.get("code", ""),
                message=record.get("message", ""),
            ),
            next_url="" if status in FINISHED_STATUSES else record["next_url"],
            amount=record["amount"],
            method=record.get("method", ""),
        )

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> ProviderPayment:
        body = request.body()
        if request.currency != "JPY" or request.amount <= 0:
            raise ProviderError("the sandbox takes positive amounts in JPY", retryable=False)
        seen = cache.get(PREFIX + "key:" + idempotency_key)
        if isinstance(seen, dict):
            if seen["digest"] != _digest(body):
                raise ProviderError(
                    "idempotency key reused with another request", retryable=False, status=422
                )
            record = load(seen["payment_id"])
            if record is not None:
                return self._payment(record)
        payment_id = "sbx_" + secrets.token_urlsafe(18)
        origin = urlsplit(request.return_url)
        record = {
            "payment_id": payment_id,
            "amount": request.amount,
            "reference": request.reference,
            "description": request.description,
            "return_url": request.return_url,
            "next_url": f"{origin.scheme}://{origin.netloc}"
            + reverse("payments:sandbox", args=[payment_id]),
            "status": "created",
            "refunded": 0,
        }
        _save(record)
        cache.set(
            PREFIX + "key:" + idempotency_key,
            {"digest": _digest(body), "payment_id": payment_id},
            TTL,
        )
        return self._payment(record)

    def get_payment(self, payment_id: str) -> ProviderPayment:
        record = load(payment_id)
        if record is None:
            raise ProviderError(
                "the sandbox does not know this payment", retryable=False, status=404
            )
        return self._payment(record)

    def refund(self, payment_id: str, amount: int, *, idempotency_key: str) -> ProviderRefund:
        seen = cache.get(PREFIX + "refund:" + idempotency_key)
        if isinstance(seen, dict):
            if seen["amount"] != amount or seen["payment_id"] != payment_id:
                raise ProviderError(
                    "idempotency key reused with another request", retryable=False, status=422
                )
            return ProviderRefund(refund_id=seen["refund_id"], status="success", amount=amount)
        record = load(payment_id)
        if record is None or record["status"] != "success":
            raise ProviderError("only a successful payment can be refunded", retryable=False)
        if amount <= 0 or record["refunded"] + amount > record["amount"]:
            raise ProviderError("the refund is more than what is left", retryable=False, status=422)
        record["refunded"] += amount
        _save(record)
        refund_id = "sbxr_" + secrets.token_urlsafe(12)
        cache.set(
            PREFIX + "refund:" + idempotency_key,
            {"amount": amount, "payment_id": payment_id, "refund_id": refund_id},
            TTL,
        )
        return ProviderRefund(refund_id=refund_id, status="success", amount=amount)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return verify_and_parse(self.webhook_secret, headers, body)
