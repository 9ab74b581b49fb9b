"""Shared set-up of the online payment tests: a resident with a small fee to pay online, and
the loopback provider configured as the ``hosted`` provider."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from cityhall.payments.models import Charge, PaymentNotice
from tests.conftest import make_resident
from tests.payments.factories import make_charge, make_kind, notice_of
from tests.payments.provider_server import ProviderServer


@dataclass
class World:
    resident: Any
    other: Any
    charge: Charge
    notice: PaymentNotice


def build_world(amount: int = 300) -> World:
    kind = make_kind(
        "shomei-tesuryo",
        tax_code="901",
        department_code="shimin",
        name="証明手数料",
        online_allowed=True,
        is_tax=False,
    )
    resident = make_resident("pay@example.jp")
    other = make_resident("other@example.jp")
    charge = make_charge(kind=kind, resident=resident, amounts=(amount,))
    return World(resident, other, charge, notice_of(charge))


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def provider(settings: Any) -> Iterator[ProviderServer]:
    server = ProviderServer().start()
    settings.PAYMENT_PROVIDER = "hosted"
    settings.PAYMENT_PROVIDER_URL = server.base_url
    settings.PAYMENT_PROVIDER_API_KEY = server.api_key
    settings.PAYMENT_PROVIDER_WEBHOOK_SECRET = server.webhook_secret
    try:
        yield server
    finally:
        server.stop()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def pay_online(client: Any, world: World, outcome: str = "success") -> Any:
    """The resident pays through the provider's page and comes back: the OnlinePayment."""
    import requests
    from django.urls import reverse

    from cityhall.payments.models import OnlinePayment

    client.force_login(world.resident)
    response = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert response.status_code == 303, response.content
    location = response["Location"]
    if location.startswith("http://testserver/"):  # the sandbox: its page is one of ours
        back = client.post(path_of(location), {"outcome": outcome})
        client.get(path_of(back["Location"]))
    else:  # the loopback provider's page
        answer = requests.get(
            location, params={"outcome": outcome}, allow_redirects=False, timeout=10
        )
        assert answer.status_code == 303
        client.get(path_of(answer.headers["Location"]))
    client.logout()
    return OnlinePayment.objects.order_by("-created_at").first()
