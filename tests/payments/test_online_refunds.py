"""Refunds of online payments from the staff console, against the loopback provider."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.payments.models import Installment, OnlinePayment, Payment, Refund
from cityhall.payments.services import online
from tests.conftest import login_staff, make_staff
from tests.payments import test_online_support as support
from tests.payments.provider_server import ProviderServer
from tests.payments.test_online_support import World, pay_online

# the shared fixtures (pytest finds them by these names)
world = support.world
provider = support.provider

pytestmark = pytest.mark.django_db
State = OnlinePayment.State


@pytest.fixture
def manager(db: Any) -> Any:
    return make_staff("kacho@city.iga.example", "manager", "shuno")


@pytest.fixture
def paid(client: Any, world: World, provider: ProviderServer) -> OnlinePayment:
    op = pay_online(client, world)
    assert op.state == State.SUCCESS
    return op


def refund_post(client: Any, op: OnlinePayment, amount: Any, reason: str = "二重申請") -> Any:
    return client.post(
        reverse("paystaff:online_payment", args=[op.pk]),
        {"action": "refund", "amount": amount, "reason": reason},
    )


def test_a_partial_then_the_full_refund(
    client: Any, world: World, provider: ProviderServer, paid: OnlinePayment, manager: Any
) -> None:
    login_staff(client, manager)
    page = client.get(reverse("paystaff:online_payment", args=[paid.pk]))
    assert page.status_code == 200
    assert 'value="300"' in page.content.decode()  # the whole payment by default

    response = refund_post(client, paid, 100)
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.state == State.SUCCESS
    assert paid.refunded_yen == 100
    first = Refund.objects.get()
    assert first.state == Refund.State.SUCCESS and first.provider_refund_id
    assert first.idempotency_key.startswith("rf-")
    refunds_at_provider = [s for s in provider.seen if s.path.endswith("/refunds")]
    assert [s.key for s in refunds_at_provider] == [first.idempotency_key]
    booked = Payment.objects.get(online_payment=paid)
    assert booked.amount_yen == 200 and booked.state == Payment.State.FINAL
    installment = Installment.objects.get(pk=world.notice.installment_id)
    assert installment.status == Installment.Status.PAID and installment.amount_yen == 200

    response = refund_post(client, paid, 200, "手数料の免除")
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.state == State.REFUNDED
    assert paid.refunded_yen == 300
    booked.refresh_from_db()
    assert booked.state == Payment.State.REFUNDED
    installment = Installment.objects.get(pk=world.notice.installment_id)
    assert installment.status == Installment.Status.OPEN
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("payments.refund_requested") == 2
    assert actions.count("payments.refund_succeeded") == 2
    assert "payments.online_refunded" in actions


def test_a_refund_over_what_is_left_is_refused_with_an_error_summary(
    client: Any, paid: OnlinePayment, manager: Any
) -> None:
    login_staff(client, manager)
    response = refund_post(client, paid, 301)
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()
    response = refund_post(client, paid, 100, "")
    assert response.status_code == 422
    assert not Refund.objects.exists()


def test_only_a_refunder_may_refund(client: Any, paid: OnlinePayment) -> None:
    clerk = make_staff("shuno@city.iga.example", "clerk", "shuno")
    login_staff(client, clerk)
    page = client.get(reverse("paystaff:online_payment", args=[paid.pk]))
    assert page.status_code == 200  # may see it (reconcile)
    assert 'name="reason"' not in page.content.decode()
    assert refund_post(client, paid, 100).status_code == 403
    with pytest.raises(PermissionDenied):
        online.refund(paid, 100, "x", actor=clerk)
    assert not Refund.objects.exists()


def test_a_refund_confirmed_later_by_webhook(
    client: Any, provider: ProviderServer, paid: OnlinePayment, manager: Any
) -> None:
    provider.refund_status = "submitted"
    item = online.refund(paid, 300, "取消", actor=manager)
    assert item.state == Refund.State.REQUESTED
    paid.refresh_from_db()
    assert paid.state == State.SUCCESS and paid.refunded_yen == 0
    assert online.refundable_yen(paid) == 0  # the pending refund counts
    headers, body = provider.event(
        paid.provider_payment_id, "refund.succeeded", refund_id=item.provider_refund_id
    )
    url = reverse("payments:webhook", args=["hosted"])
    sig = {"Cityhall-Signature": headers["Cityhall-Signature"]}
    assert client.post(url, data=body, content_type="application/json", headers=sig).json() == {
        "status": "processed"
    }
    assert client.post(url, data=body, content_type="application/json", headers=sig).json() == {
        "status": "duplicate"
    }
    item.refresh_from_db()
    paid.refresh_from_db()
    assert item.state == Refund.State.SUCCESS
    assert paid.state == State.REFUNDED and paid.refunded_yen == 300


def test_a_refund_whose_call_failed_is_sent_again_with_the_same_key(
    client: Any, provider: ProviderServer, paid: OnlinePayment, manager: Any
) -> None:
    login_staff(client, manager)
    client.cookies["cityhall_lang"] = "en"
    provider.fail_next(2, status=502)
    response = refund_post(client, paid, 300)
    assert response.status_code == 422
    assert "cannot be reached" in response.content.decode()
    item = Refund.objects.get()
    assert item.state == Refund.State.REQUESTED and not item.provider_refund_id
    response = client.post(
        reverse("paystaff:online_payment", args=[paid.pk]),
        {"action": "retry_refund", "refund": str(item.pk)},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == Refund.State.SUCCESS
    keys = {s.key for s in provider.seen if s.path.endswith("/refunds")}
    assert keys == {item.idempotency_key}
    paid.refresh_from_db()
    assert paid.state == State.REFUNDED


def test_a_failed_payment_cannot_be_refunded(
    client: Any, world: World, provider: ProviderServer, manager: Any
) -> None:
    op = pay_online(client, world, "failed")
    assert op.state == State.FAILED
    with pytest.raises(online.OnlineError) as caught:
        online.refund(op, 100, "x", actor=manager)
    assert caught.value.code == "not_refundable"
