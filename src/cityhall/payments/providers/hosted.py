"""The ``hosted`` adapter: a real provider speaking the contract over HTTPS with ``requests``.

- Every call has a connect and a read timeout; nothing waits for ever.
- A ``POST`` is only ever sent again with the *same* ``Idempotency-Key`` (the provider
  then answers with the first result instead of charging twice). ``GET`` is safe to
  repeat. Retries are few and short: the resident is waiting on the other side.
- Errors become :class:`~cityhall.payments.providers.base.ProviderError` with
  ``retryable`` set for what may work later (timeouts, refused connections, 5xx, 409,
  429) and cleared for what will not (other 4xx, an answer that breaks the contract
  on a non-idempotent call is still retryable with its key).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from cityhall.payments.providers.base import (
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    WebhookEvent,
    parse_payment,
    parse_refund,
    verify_and_parse,
)

RETRYABLE_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


class HostedProvider(PaymentProvider):
    name = "hosted"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        attempts: int = 2,
        backoff: float = 0.2,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.timeout = (connect_timeout, read_timeout)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.session = session or requests.Session()

    # --- the calls ----------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest, *, idempotency_key: str) -> ProviderPayment:
        data = self._call("POST", "/payments", body=request.body(), key=idempotency_key)
        return self._parsed(parse_payment, data)

    def get_payment(self, payment_id: str) -> ProviderPayment:
        data = self._call("GET", f"/payments/{quote(payment_id, safe='')}")
        return self._parsed(parse_payment, data)

    def refund(self, payment_id: str, amount: int, *, idempotency_key: str) -> ProviderRefund:
        data = self._call(
            "POST",
            f"/payments/{quote(payment_id, safe='')}/refunds",
            body={"amount": amount},
            key=idempotency_key,
        )
        return self._parsed(parse_refund, data)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return verify_and_parse(self.webhook_secret, headers, body)

    # --- HTTP ---------------------------------------------------------------------------

    @staticmethod
    def _parsed(parse: Any, data: Any) -> Any:
        try:
            return parse(data)
        except ValueError as exc:
            # The provider answered something outside the contract. The same request with
            # the same key is safe to send again; someone should look at the provider.
            raise ProviderError(
                f"the provider's answer breaks the contract: {exc}", retryable=True
            ) from exc

    def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, key: str = ""
    ) -> Any:
        if not self.base_url.startswith(("https://", "http://")):
            raise ProviderError(
                "CITYHALL_PAYMENT_PROVIDER_URL is not set to an http(s) address", retryable=False
            )
        if method != "GET" and not key:
            raise ProviderError("a POST to the provider needs an idempotency key", retryable=False)
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
        }
        if key:
            headers["Idempotency-Key"] = key
        last: ProviderError | None = None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff * attempt)
            try:
                response = self.session.request(
                    method, self.base_url + path, json=body, headers=headers, timeout=self.timeout
                )
            except requests.Timeout:
                last = ProviderError("the provider did not answer in time", retryable=True)
                continue
            except requests.RequestException as exc:
                last = ProviderError(
                    f"the provider could not be reached: {type(exc).__name__}", retryable=True
                )
                continue
            if response.status_code in RETRYABLE_STATUSES:
                last = ProviderError(
                    f"the provider answered {response.status_code}",
                    retryable=True,
                    status=response.status_code,
                )
                continue
            if response.status_code >= 400:
                raise ProviderError(
                    f"the provider refused the request ({response.status_code}): "
                    f"{_detail(response)}",
                    retryable=False,
                    status=response.status_code,
                )
            try:
                return response.json()
            except ValueError:
                last = ProviderError(
                    "the provider's answer is not JSON", retryable=True, status=response.status_code
                )
                continue
        assert last is not None
        raise last


def _detail(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or data.get("message") or "")[:200]
    return ""
