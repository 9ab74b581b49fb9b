"""Online payment providers behind one interface (:mod:`.base`).

``get_provider()`` builds the adapter named by ``CITYHALL_PAYMENT_PROVIDER``:

- ``hosted``: a real provider speaking the contract in ``docs/payments/online.md`` at
  ``CITYHALL_PAYMENT_PROVIDER_URL`` (:mod:`.hosted`);
- ``sandbox``: the built-in test provider, no money moves (:mod:`.sandbox`);
- ``none``: no online payment at all (slips only): :func:`online_enabled` is false.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings

from cityhall.payments.providers.base import PaymentProvider, ProviderError

REGISTRY: dict[str, Callable[[], PaymentProvider]] = {}


def register(name: str, factory: Callable[[], PaymentProvider]) -> None:
    REGISTRY[name] = factory


def _hosted() -> PaymentProvider:
    from cityhall.payments.providers.hosted import HostedProvider

    return HostedProvider(
        base_url=settings.PAYMENT_PROVIDER_URL,
        api_key=settings.PAYMENT_PROVIDER_API_KEY,
        webhook_secret=settings.PAYMENT_PROVIDER_WEBHOOK_SECRET,
    )


def sandbox_webhook_secret() -> str:
    """The sandbox's webhook secret: the configured one, else derived from SECRET_KEY."""
    configured: str = settings.PAYMENT_PROVIDER_WEBHOOK_SECRET
    if configured:
        return configured
    return hashlib.sha256(f"payments-sandbox-webhook:{settings.SECRET_KEY}".encode()).hexdigest()


def _sandbox() -> PaymentProvider:
    from cityhall.payments.providers.sandbox import SandboxProvider

    return SandboxProvider(webhook_secret=sandbox_webhook_secret())


register("hosted", _hosted)
register("sandbox", _sandbox)


def provider_name() -> str:
    return str(settings.PAYMENT_PROVIDER)


def online_enabled() -> bool:
    """Whether residents may pay by card or wallet online at all."""
    return provider_name() in REGISTRY


def get_provider(name: str | None = None) -> PaymentProvider:
    """The configured provider (or the one named), built from the current settings."""
    name = name or provider_name()
    factory = REGISTRY.get(name)
    if factory is None:
        raise ProviderError(f"unknown payment provider {name!r}", retryable=False)
    return factory()


def is_sandbox() -> bool:
    return provider_name() == "sandbox" and not getattr(settings, "PRODUCTION", False)
