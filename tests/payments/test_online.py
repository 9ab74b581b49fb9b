"""Online payments through the hosted adapter against a real provider server on loopback."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.payments.models import Installment, OnlinePayment, Payment
from tests.payments import test_online_support as support
from tests.payments.provider_server import ProviderServer
from tests.payments.test_online_support import World, path_of

# the shared fixtures (pytest finds them by these names)
world = support.world
provider = support.provider

pytestmark = pytest.mark.django_db
State = OnlinePayment.State


def start(client: Any, world: World) -> Any:
    client.force_login(world.resident)
    client.cookies["cityhall_lang"] = "en"  # the tests read the pages' English text
    return client.post(reverse("payments:pay", args=[world.notice.notice_number]))


def pay_at_provider(url: str, outcome: str) -> str:
    """The resident on the provider's page: returns where the provider sends them back."""
    response = requests.get(url, params={"outcome": outcome}, allow_redirects=False, timeout=10)
    assert response.status_code == 303
    return str(response.headers["Location"])


def test_happy_path_books_the_payment_once(
    client: Any, world: World, provider: ProviderServer
) -> None:
    response = start(client, world)
    assert response.status_code == 303
    next_url = response["Location"]
    assert next_url.startswith(provider.origin + "/pay/")
    op = OnlinePayment.objects.get()
    assert op.state == State.STARTED
    assert op.amount_yen == 300
    assert op.provider == "hosted" and op.provider_payment_id
    # the key was stored before the call and is the one the provider saw
    (sent,) = provider.created()
    assert sent.key == op.idempotency_key
    assert sent.body["amount"] == 300 and sent.body["currency"] == "JPY"
    assert sent.body["reference"] == world.notice.notice_number

    back = pay_at_provider(next_url, "success")
    assert back.endswith(reverse("payments:return", args=[op.pk]))
    page = client.get(path_of(back))
    assert page.status_code == 200
    assert "Payment complete" in page.content.decode()

    op.refresh_from_db()
    assert op.state == State.SUCCESS
    assert op.method == "card"
    payment = Payment.objects.get()
    assert payment.online_payment_id == op.pk
    assert payment.channel == "online" and payment.state == Payment.State.FINAL
    assert payment.amount_yen == 300
    installment = Installment.objects.get(pk=world.notice.installment_id)
    assert installment.status == Installment.Status.PAID

    # coming back again (reload, back button) books nothing more
    assert client.get(path_of(back)).status_code == 200
    assert Payment.objects.count() == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "payments.online_created",
        "payments.online_started",
        "payments.online_succeeded",
    } <= actions


def test_return_page_ignores_query_parameters(
    client: Any, world: World, provider: ProviderServer
) -> None:
    start(client, world)
    op = OnlinePayment.objects.get()
    url = reverse("payments:return", args=[op.pk]) + "?status=success&outcome=success"
    page = client.get(url)
    assert page.status_code == 200
    assert "being processed" in page.content.decode()
    op.refresh_from_db()
    assert op.state == State.STARTED
    assert not Payment.objects.exists()


def test_a_double_submit_reuses_the_payment_in_flight(
    client: Any, world: World, provider: ProviderServer
) -> None:
    first = start(client, world)
    second = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert OnlinePayment.objects.count() == 1
    assert len(provider.created()) == 1
    assert len(provider.payments) == 1


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(
    client: Any, world: World, provider: ProviderServer
) -> None:
    start(client, world)
    op = OnlinePayment.objects.get()
    provider.set_status(op.provider_payment_id, "success")
    url = reverse("payments:webhook", args=["hosted"])
    events_before = op.events.count()
    for headers, body in (
        provider.event(op.provider_payment_id, secret="not-the-secret"),
        ({"Content-Type": "application/json"}, provider.event(op.provider_payment_id)[1]),
        provider.event(op.provider_payment_id, timestamp=1_600_000_000),
    ):
        response = client.post(
            url,
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/bad-request"
    op.refresh_from_db()
    assert op.state == State.STARTED
    assert op.events.count() == events_before
    assert not Payment.objects.exists()


def test_a_replayed_webhook_is_processed_once(
    client: Any, world: World, provider: ProviderServer
) -> None:
    start(client, world)
    op = OnlinePayment.objects.get()
    provider.set_status(op.provider_payment_id, "success")
    headers, body = provider.event(op.provider_payment_id, event_id="evt_once")
    url = reverse("payments:webhook", args=["hosted"])
    sig = {"Cityhall-Signature": headers["Cityhall-Signature"]}
    first = client.post(url, data=body, content_type="application/json", headers=sig)
    again = client.post(url, data=body, content_type="application/json", headers=sig)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"status": "processed"}
    assert again.json() == {"status": "duplicate"}
    op.refresh_from_db()
    assert op.state == State.SUCCESS
    assert Payment.objects.count() == 1
    assert op.events.filter(provider_event_id="evt_once").count() == 1


def test_a_webhook_is_checked_with_the_provider_not_believed(
    client: Any, world: World, provider: ProviderServer
) -> None:
    """A rightly signed "succeeded" for a payment the provider still has as started (out of
    order, or a leaked secret) changes nothing: the provider's own answer decides."""
    start(client, world)
    op = OnlinePayment.objects.get()
    headers, body = provider.event(op.provider_payment_id)
    response = client.post(
        reverse("payments:webhook", args=["hosted"]),
        data=body,
        content_type="application/json",
        headers={"Cityhall-Signature": headers["Cityhall-Signature"]},
    )
    assert response.status_code == 200
    op.refresh_from_db()
    assert op.state == State.STARTED
    assert not Payment.objects.exists()


def test_a_webhook_for_an_unknown_payment_is_404(client: Any, provider: ProviderServer) -> None:
    headers, body = provider.event("pay_unknown")
    response = client.post(
        reverse("payments:webhook", args=["hosted"]),
        data=body,
        content_type="application/json",
        headers={"Cityhall-Signature": headers["Cityhall-Signature"]},
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_webhook_for_another_provider_name_is_404(client: Any, provider: ProviderServer) -> None:
    headers, body = provider.event("pay_x")
    response = client.post(
        reverse("payments:webhook", args=["sandbox"]),
        data=body,
        content_type="application/json",
        headers={"Cityhall-Signature": headers["Cityhall-Signature"]},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("outcome", "state", "words"),
    [
        ("failed", State.FAILED, "declined"),
        ("cancelled", State.CANCELLED, "You cancelled the payment"),
    ],
)
def test_declined_and_cancelled_payments_charge_nothing_and_can_be_retried(
    client: Any, world: World, provider: ProviderServer, outcome: str, state: str, words: str
) -> None:
    response = start(client, world)
    back = pay_at_provider(response["Location"], outcome)
    page = client.get(path_of(back))
    assert words in page.content.decode()
    assert "Nothing was charged" in page.content.decode()
    op = OnlinePayment.objects.get()
    assert op.state == state
    assert op.failure_reason
    assert not Payment.objects.exists()
    assert Installment.objects.get(pk=world.notice.installment_id).status == "open"
    # A new try is a new attempt, with its own key; the finished one never changes.
    retry = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert retry.status_code == 303
    assert retry["Location"] != response["Location"]
    assert OnlinePayment.objects.count() == 2
    keys = set(OnlinePayment.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 2
    op.refresh_from_db()
    assert op.state == state


def test_provider_answering_500_loses_nothing_and_the_retry_uses_the_same_key(
    client: Any, world: World, provider: ProviderServer
) -> None:
    provider.fail_next(2, status=500)  # both tries of the adapter
    response = start(client, world)
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()
    op = OnlinePayment.objects.get()
    assert op.state == State.CREATED
    assert op.events.filter(kind="provider_unavailable").exists()

    retry = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert retry.status_code == 303
    assert OnlinePayment.objects.count() == 1
    keys = {s.key for s in provider.created()}
    assert keys == {op.idempotency_key}
    assert len(provider.payments) == 1
    op.refresh_from_db()
    assert op.state == State.STARTED


def test_a_lost_answer_is_recovered_by_the_same_key_without_a_second_payment(
    client: Any, world: World, provider: ProviderServer
) -> None:
    provider.lose_next_answers(1)  # created at the provider, the answer never arrives
    response = start(client, world)
    assert response.status_code == 303  # the adapter's second try got the stored answer
    assert len(provider.created()) == 2
    assert len(provider.payments) == 1
    op = OnlinePayment.objects.get()
    assert op.provider_payment_id == next(iter(provider.payments))


def test_provider_refusing_connections_gives_a_clear_message(
    client: Any, world: World, provider: ProviderServer, settings: Any
) -> None:
    from tests.conftest import free_port

    settings.PAYMENT_PROVIDER_URL = f"http://127.0.0.1:{free_port()}/v1"
    response = start(client, world)
    assert response.status_code == 503
    assert "Nothing was charged" in response.content.decode()
    op = OnlinePayment.objects.get()
    assert op.state == State.CREATED

    settings.PAYMENT_PROVIDER_URL = provider.base_url  # the provider is back
    retry = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert retry.status_code == 303
    assert [s.key for s in provider.created()] == [op.idempotency_key]


def test_the_return_page_says_processing_when_the_provider_is_down(
    client: Any, world: World, provider: ProviderServer
) -> None:
    response = start(client, world)
    op = OnlinePayment.objects.get()
    pay_at_provider(response["Location"], "success")
    provider.fail_next(2, status=503)
    page = client.get(reverse("payments:return", args=[op.pk]))
    assert page.status_code == 200
    assert "could not reach the payment service" in page.content.decode()
    op.refresh_from_db()
    assert op.state == State.STARTED
    # once it answers, the same page books the payment
    page = client.get(reverse("payments:return", args=[op.pk]))
    assert "Payment complete" in page.content.decode()
    assert Payment.objects.count() == 1


def test_a_provider_refusal_ends_the_attempt_in_error(
    client: Any, world: World, provider: ProviderServer, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER_API_KEY = "wrong"
    response = start(client, world)
    assert response.status_code == 409
    assert "refused" in response.content.decode()
    op = OnlinePayment.objects.get()
    assert op.state == State.ERROR


def test_a_resident_cannot_pay_or_see_anothers_payment(
    client: Any, world: World, provider: ProviderServer
) -> None:
    client.force_login(world.other)
    response = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert response.status_code == 404
    assert not OnlinePayment.objects.exists()
    client.force_login(world.resident)
    start(client, world)
    op = OnlinePayment.objects.get()
    client.force_login(world.other)
    assert client.get(reverse("payments:return", args=[op.pk])).status_code == 404


def test_pay_needs_post_and_login(client: Any, world: World, provider: ProviderServer) -> None:
    url = reverse("payments:pay", args=[world.notice.notice_number])
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(world.resident)
    assert client.get(url).status_code == 405


def test_an_amount_over_the_online_limit_is_refused(
    client: Any, world: World, provider: ProviderServer, settings: Any
) -> None:
    settings.PAYMENT_ONLINE_LIMIT_YEN = 299
    response = start(client, world)
    assert response.status_code == 409
    assert "cannot be paid online" in response.content.decode()
    assert not OnlinePayment.objects.exists()
    assert not provider.seen


def test_a_kind_without_online_payment_is_refused(
    client: Any, world: World, provider: ProviderServer
) -> None:
    kind = world.charge.kind
    kind.online_allowed = False
    kind.save()
    assert start(client, world).status_code == 409
    assert not OnlinePayment.objects.exists()


def test_a_paid_installment_is_not_paid_again(
    client: Any, world: World, provider: ProviderServer
) -> None:
    response = start(client, world)
    pay_at_provider(response["Location"], "success")
    op = OnlinePayment.objects.get()
    client.get(reverse("payments:return", args=[op.pk]))
    again = client.post(reverse("payments:pay", args=[world.notice.notice_number]))
    assert again.status_code in (404, 409)
    assert OnlinePayment.objects.count() == 1
