"""The sandbox provider end to end, the fee page of a procedure, the staff pages, and a
webhook sent over HTTP by the loopback provider to a live server."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.payments import providers
from cityhall.payments.models import Installment, OnlinePayment, Payment
from cityhall.payments.services import online
from cityhall.procedures.models import Application
from tests.conftest import login_staff, make_staff
from tests.payments import test_online_support as support
from tests.payments.provider_server import ProviderServer
from tests.payments.test_online_support import (
    World,
    build_world,
    path_of,
    pay_online,
)

# the shared fixtures (pytest finds them by these names)
world = support.world
provider = support.provider

State = OnlinePayment.State


@pytest.fixture
def client(client: Any) -> Any:
    """The pages in English: the tests read their English text."""
    client.cookies["cityhall_lang"] = "en"
    return client


@pytest.fixture
def sandbox(settings: Any) -> None:
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.PAYMENT_PROVIDER_WEBHOOK_SECRET = ""


# --- sandbox --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sandbox_flow_end_to_end(client: Any, world: World, sandbox: None) -> None:
    client.force_login(world.resident)
    response = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert response.status_code == 303
    page_url = path_of(response["Location"])
    assert page_url.startswith("/payments/sandbox/sbx_")
    page = client.get(page_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Test payment — no money moves" in text
    assert "300" in text
    assert 'value="success"' in text and 'value="failed"' in text and 'value="cancelled"' in text

    back = client.post(page_url, {"outcome": "success"})
    assert back.status_code == 303
    result = client.get(path_of(back["Location"]))
    assert "Payment complete" in result.content.decode()
    op = OnlinePayment.objects.get()
    assert op.provider == "sandbox" and op.state == State.SUCCESS
    assert Payment.objects.get().online_payment_id == op.pk
    assert Installment.objects.get(pk=world.notice.installment_id).status == "paid"
    # pressing a button again on the finished page changes nothing
    client.post(page_url, {"outcome": "failed"})
    client.get(path_of(back["Location"]))
    op.refresh_from_db()
    assert op.state == State.SUCCESS


@pytest.mark.django_db
def test_the_sandbox_decline_and_an_unknown_button(
    client: Any, world: World, sandbox: None
) -> None:
    client.force_login(world.resident)
    response = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    page_url = path_of(response["Location"])
    assert client.post(page_url, {"outcome": "steal"}).status_code == 422
    back = client.post(page_url, {"outcome": "failed"})
    assert "declined" in client.get(path_of(back["Location"])).content.decode()
    assert OnlinePayment.objects.get().state == State.FAILED


@pytest.mark.django_db
def test_the_sandbox_refunds_and_takes_signed_webhooks(
    client: Any, world: World, sandbox: None
) -> None:
    op = pay_online(client, world)
    manager = make_staff("kacho@city.iga.example", "manager", "shuno")
    item = online.refund(op, 300, "テスト", actor=manager)
    assert item.state == "success"
    op.refresh_from_db()
    assert op.state == State.REFUNDED

    from cityhall.payments.providers.base import sign

    body = (
        b'{"event_id": "evt_sbx", "type": "payment.succeeded", "payment_id": "'
        + op.provider_payment_id.encode()
        + b'"}'
    )
    header = sign(providers.sandbox_webhook_secret(), body)
    response = client.post(
        reverse("payments:webhook", args=["sandbox"]),
        data=body,
        content_type="application/json",
        headers={"Cityhall-Signature": header},
    )
    assert response.status_code == 200
    op.refresh_from_db()
    assert op.state == State.REFUNDED  # finished: success does not come back


@pytest.mark.django_db
def test_the_sandbox_page_is_404_unless_the_sandbox_is_the_provider(
    client: Any, world: World, sandbox: None, settings: Any
) -> None:
    client.force_login(world.resident)
    response = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    page_url = path_of(response["Location"])
    settings.PAYMENT_PROVIDER = "hosted"
    assert client.get(page_url).status_code == 404
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.PRODUCTION = True
    assert client.get(page_url).status_code == 404
    settings.PRODUCTION = False
    assert client.get("/payments/sandbox/sbx_nothing/").status_code == 404


# --- the fee page ---------------------------------------------------------------------------


def _fee_application(resident: Any, fee: int = 300) -> Application:
    from cityhall.people.models import Department
    from tests.procedures.test_board_support import make_application, make_procedure

    department, _ = Department.objects.get_or_create(code="shimin", defaults={"name": "市民課"})
    Department.objects.get_or_create(code="shuno", defaults={"name": "収納課"})
    procedure = make_procedure(
        department, "juminhyo", "住民票の写しの交付", fee_yen=fee, fee_hook="payments.fee"
    )
    app = make_application(procedure, resident)
    Application.objects.filter(pk=app.pk).update(fee_yen=fee, fee_status="due")
    app.refresh_from_db()
    return app


@pytest.mark.django_db
def test_the_fee_page_offers_online_payment_and_the_slip(client: Any, sandbox: None) -> None:
    from tests.conftest import make_resident

    resident = make_resident("fee@example.jp")
    app = _fee_application(resident)
    client.force_login(resident)
    page = client.get(reverse("payments:fee", args=[app.reference]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "300" in text
    charge = app.charge  # type: ignore[attr-defined]
    notice = charge.installment_set.get().notices.get()
    assert reverse("payments:pay", args=[notice.notice_number]) in text
    assert reverse("payments:notice", args=[notice.notice_number]) in text
    # the same charge on every visit
    client.get(reverse("payments:fee", args=[app.reference]))
    assert type(charge).objects.filter(application=app).count() == 1

    # paying it from the fee page
    response = client.post(reverse("payments:pay", args=[notice.notice_number]))
    back = client.post(path_of(response["Location"]), {"outcome": "success"})
    client.get(path_of(back["Location"]))
    page = client.get(reverse("payments:fee", args=[app.reference]))
    assert "This fee has been paid" in page.content.decode()


@pytest.mark.django_db
def test_the_fee_page_is_the_applicants_only(client: Any, sandbox: None) -> None:
    from tests.conftest import make_resident

    app = _fee_application(make_resident("fee@example.jp"))
    client.force_login(make_resident("nosy@example.jp"))
    assert client.get(reverse("payments:fee", args=[app.reference])).status_code == 404
    assert client.get(reverse("payments:fee", args=["2026-0000001-0"])).status_code == 404


@pytest.mark.django_db
def test_the_fee_page_over_the_limit_shows_only_the_slip(
    client: Any, sandbox: None, settings: Any
) -> None:
    from tests.conftest import make_resident

    settings.PAYMENT_ONLINE_LIMIT_YEN = 100
    resident = make_resident("fee@example.jp")
    app = _fee_application(resident)
    client.force_login(resident)
    text = client.get(reverse("payments:fee", args=[app.reference])).content.decode()
    assert "cannot be paid online" in text
    assert "/pay/" not in text


# --- staff ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_list_and_detail(client: Any, world: World, sandbox: None) -> None:
    op = pay_online(client, world)
    central = make_staff("shuno@city.iga.example", "clerk", "shuno")
    login_staff(client, central)
    page = client.get(reverse("paystaff:online"))
    assert page.status_code == 200
    assert world.notice.notice_number in page.content.decode()
    filtered = client.get(reverse("paystaff:online"), {"state": "failed"})
    assert world.notice.notice_number not in filtered.content.decode()
    found = client.get(reverse("paystaff:online"), {"q": op.provider_payment_id})
    assert world.notice.notice_number in found.content.decode()
    bad = client.get(
        reverse("paystaff:online"), {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert bad.status_code == 422 and 'id="error-summary"' in bad.content.decode()

    detail = client.get(reverse("paystaff:online_payment", args=[op.pk]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert op.idempotency_key in text and "redirected" in text
    assert AuditEvent.objects.filter(
        action="payments.online_viewed", target_id=str(op.pk), actor_id=central.pk
    ).exists()


@pytest.mark.django_db
def test_staff_of_other_departments_cannot_see_online_payments(
    client: Any, world: World, sandbox: None
) -> None:
    op = pay_online(client, world)
    login_staff(client, make_staff("suido@city.iga.example", "clerk", "suido"))
    assert client.get(reverse("paystaff:online")).status_code == 403
    assert client.get(reverse("paystaff:online_payment", args=[op.pk])).status_code == 403
    client.logout()
    client.force_login(world.resident)
    response = client.get(reverse("paystaff:online"))
    assert response.status_code == 302  # residents go to the staff login


# --- a webhook over HTTP ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_provider_sends_a_signed_webhook_to_a_live_server(
    live_server: Any, provider: ProviderServer
) -> None:
    world = build_world()
    provider.webhook_url = live_server.url + reverse("payments:webhook", args=["hosted"])
    op, next_url = online.start_payment(world.notice, world.resident)
    answer = requests.get(
        next_url, params={"outcome": "success"}, allow_redirects=False, timeout=30
    )
    assert answer.status_code == 303
    assert provider.webhooks_sent and provider.webhooks_sent[0][0] == 200
    op.refresh_from_db()
    assert op.state == State.SUCCESS
    assert Payment.objects.filter(online_payment=op).count() == 1
    assert op.events.filter(kind="webhook_received").count() == 1
    assert op.events.filter(kind="webhook", to_state=State.SUCCESS).count() == 1
