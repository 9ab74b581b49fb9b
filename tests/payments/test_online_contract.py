"""The provider contract: signatures, parsing, the hosted adapter against the loopback
server, and the state machine's refusals."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cityhall.core.models import AuditEvent
from cityhall.payments.models import OnlinePayment, Payment
from cityhall.payments.providers.base import (
    PaymentRequest,
    ProviderError,
    ProviderPayment,
    ProviderState,
    WebhookError,
    parse_event,
    parse_payment,
    sign,
    signature,
    verify_signature,
)
from cityhall.payments.providers.hosted import HostedProvider
from cityhall.payments.services import online
from tests.payments import test_online_support as support
from tests.payments.provider_server import ProviderServer
from tests.payments.test_online_support import World

# the shared fixtures (pytest finds them by these names)
world = support.world
provider = support.provider

State = OnlinePayment.State
SECRET = "s3cret"
BODY = b'{"event_id":"evt_1","type":"payment.succeeded","payment_id":"pay_1"}'


# --- signatures -----------------------------------------------------------------------------


def test_a_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1_700_000_000, BODY) == expected
    assert sign(SECRET, BODY, timestamp=1_700_000_000) == f"t=1700000000,v1={expected}"


def test_a_right_and_recent_signature_passes_also_among_rotated_ones() -> None:
    now = 1_700_000_000
    good = signature(SECRET, now, BODY)
    header = f"t={now},v1={'0' * 64},v1={good}"
    verify_signature(SECRET, {"cityhall-signature": header}, BODY, now=now + 299)


@pytest.mark.parametrize(
    ("header", "now_offset", "why"),
    [
        (None, 0, "missing"),
        ("v1=abc", 0, "no t="),
        ("t=1700000000", 0, "no t="),
        ("t=1700000000,v1=" + "0" * 64, 0, "does not match"),
        ("GOOD", 301, "too old"),
        ("GOOD", -301, "too old"),
    ],
)
def test_a_wrong_missing_or_old_signature_is_refused(
    header: str | None, now_offset: int, why: str
) -> None:
    now = 1_700_000_000
    if header == "GOOD":
        header = sign(SECRET, BODY, timestamp=now)
    headers = {} if header is None else {"Cityhall-Signature": header}
    with pytest.raises(WebhookError, match=why):
        verify_signature(SECRET, headers, BODY, now=now + now_offset)


def test_a_changed_body_breaks_the_signature() -> None:
    header = sign(SECRET, BODY)
    with pytest.raises(WebhookError):
        verify_signature(SECRET, {"Cityhall-Signature": header}, BODY.replace(b"pay_1", b"pay_2"))


def test_no_secret_refuses_everything() -> None:
    with pytest.raises(WebhookError, match="no webhook secret"):
        verify_signature("", {"Cityhall-Signature": sign("", BODY)}, BODY)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type":"payment.succeeded","payment_id":"p"}',
        b'{"event_id":"e","type":"payment.refunded","payment_id":"p"}',
        b'{"event_id":"e","type":"refund.succeeded","payment_id":"p"}',
    ],
)
def test_events_outside_the_contract_are_refused(body: bytes) -> None:
    with pytest.raises(WebhookError):
        parse_event(body)


# --- parsing --------------------------------------------------------------------------------


def _payment(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payment_id": "pay_1",
        "amount": 300,
        "state": {"status": "started", "finished": False},
        "next_url": "https://pay.example/p/1",
    }
    data.update(extra)
    return data


def test_a_payment_object_is_parsed() -> None:
    parsed = parse_payment(_payment(state={"status": "failed", "finished": True, "code": "P0010"}))
    assert parsed.state == ProviderState("failed", True, "P0010", "")
    assert parsed.amount == 300


@pytest.mark.parametrize(
    "data",
    [
        _payment(amount=300.0),
        _payment(amount=True),
        _payment(state={"status": "paid"}),
        _payment(next_url="javascript:alert(1)"),
        _payment(payment_id=""),
        "nope",
    ],
)
def test_payment_objects_outside_the_contract_are_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        parse_payment(data)


# --- the hosted adapter against the loopback server ----------------------------------------


def _request(amount: int = 300) -> PaymentRequest:
    return PaymentRequest(
        amount=amount,
        reference="20260110000000000010",
        description="証明手数料",
        return_url="http://127.0.0.1/return/",
        metadata={"online_payment_id": "x"},
    )


@pytest.fixture
def server() -> Any:
    running = ProviderServer().start()
    yield running
    running.stop()


def _adapter(server: ProviderServer, **extra: Any) -> HostedProvider:
    return HostedProvider(
        base_url=server.base_url,
        api_key=server.api_key,
        webhook_secret=server.webhook_secret,
        backoff=0,
        **extra,
    )


def test_the_same_key_and_body_give_the_same_payment(server: ProviderServer) -> None:
    adapter = _adapter(server)
    first = adapter.create_payment(_request(), idempotency_key="k1")
    again = adapter.create_payment(_request(), idempotency_key="k1")
    assert first == again
    assert first.state.status == "created" and not first.state.finished
    assert first.next_url.startswith(server.origin)
    assert [s.key for s in server.created()] == ["k1", "k1"]
    assert len(server.payments) == 1
    assert adapter.get_payment(first.payment_id).payment_id == first.payment_id


def test_the_same_key_with_another_body_is_refused_not_retried(server: ProviderServer) -> None:
    adapter = _adapter(server)
    adapter.create_payment(_request(), idempotency_key="k1")
    with pytest.raises(ProviderError) as caught:
        adapter.create_payment(_request(amount=301), idempotency_key="k1")
    assert caught.value.status == 422 and not caught.value.retryable
    assert len(server.created()) == 2  # no retry of a refused request


def test_get_is_retried_and_errors_say_whether_to_retry(server: ProviderServer) -> None:
    adapter = _adapter(server, attempts=3)
    created = adapter.create_payment(_request(), idempotency_key="k2")
    server.fail_next(2, status=503)
    assert adapter.get_payment(created.payment_id).payment_id == created.payment_id
    with pytest.raises(ProviderError) as caught:
        adapter.get_payment("pay_missing")
    assert caught.value.status == 404 and not caught.value.retryable
    bad_key = HostedProvider(base_url=server.base_url, api_key="x", webhook_secret="", backoff=0)
    with pytest.raises(ProviderError) as caught:
        bad_key.get_payment(created.payment_id)
    assert caught.value.status == 401 and not caught.value.retryable


def test_an_unconfigured_provider_is_not_retryable() -> None:
    with pytest.raises(ProviderError) as caught:
        HostedProvider(base_url="", api_key="", webhook_secret="").get_payment("p")
    assert not caught.value.retryable


def test_a_refund_is_sent_with_its_key(server: ProviderServer) -> None:
    adapter = _adapter(server)
    created = adapter.create_payment(_request(), idempotency_key="k3")
    server.set_status(created.payment_id, "success")
    answer = adapter.refund(created.payment_id, 100, idempotency_key="r1")
    again = adapter.refund(created.payment_id, 100, idempotency_key="r1")
    assert answer == again and answer.status == "success"
    assert server.payments[created.payment_id]["refunded"] == 100
    with pytest.raises(ProviderError) as caught:
        adapter.refund(created.payment_id, 201, idempotency_key="r2")
    assert caught.value.status == 422


def test_the_request_body_is_the_contracts() -> None:
    body = _request().body()
    assert body == {
        "amount": 300,
        "currency": "JPY",
        "reference": "20260110000000000010",
        "description": "証明手数料",
        "return_url": "http://127.0.0.1/return/",
        "metadata": {"online_payment_id": "x"},
    }
    assert PaymentRequest.from_body(json.loads(json.dumps(body))) == _request()


# --- the state machine ----------------------------------------------------------------------


def test_the_transition_table() -> None:
    assert online.can_transition(State.CREATED, State.STARTED)
    assert online.can_transition(State.STARTED, State.SUCCESS)
    assert online.can_transition(State.SUCCESS, State.REFUNDED)
    for finished in (State.FAILED, State.CANCELLED, State.ERROR, State.REFUNDED):
        assert not online.TRANSITIONS[finished]
    assert not online.can_transition(State.SUCCESS, State.FAILED)
    assert not online.can_transition(State.STARTED, State.CREATED)
    assert set(online.TRANSITIONS) == set(State.values)


def _said(status: str, amount: int = 300) -> ProviderPayment:
    return ProviderPayment(
        payment_id="pay_x",
        state=ProviderState(status, status in ("success", "failed", "cancelled", "error")),
        amount=amount,
    )


@pytest.mark.django_db
def test_finished_states_never_change_and_late_success_is_a_conflict(
    world: World, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER = "sandbox"
    op = OnlinePayment.objects.create(
        notice=world.notice,
        payer=world.resident,
        amount_yen=300,
        provider="sandbox",
        idempotency_key="op-test-1",
        state=State.STARTED,
    )
    online.apply_provider_state(op, _said("failed"), via="test")
    op.refresh_from_db()
    assert op.state == State.FAILED
    online.apply_provider_state(op, _said("success"), via="test")
    op.refresh_from_db()
    assert op.state == State.FAILED
    assert not Payment.objects.exists()
    assert op.events.filter(kind="conflict").count() == 1
    assert AuditEvent.objects.filter(action="payments.online_conflict").count() == 1


@pytest.mark.django_db
def test_success_for_another_amount_is_not_booked(world: World) -> None:
    op = OnlinePayment.objects.create(
        notice=world.notice,
        payer=world.resident,
        amount_yen=300,
        provider="sandbox",
        idempotency_key="op-test-2",
        state=State.STARTED,
    )
    online.apply_provider_state(op, _said("success", amount=3), via="test")
    op.refresh_from_db()
    assert op.state == State.STARTED
    assert not Payment.objects.exists()
    assert op.events.filter(kind="conflict").exists()


@pytest.mark.django_db
def test_telling_success_twice_books_once(world: World) -> None:
    op = OnlinePayment.objects.create(
        notice=world.notice,
        payer=world.resident,
        amount_yen=300,
        provider="sandbox",
        idempotency_key="op-test-3",
        state=State.STARTED,
    )
    online.apply_provider_state(op, _said("success"), via="test")
    online.apply_provider_state(op, _said("success"), via="test")
    assert Payment.objects.filter(online_payment=op).count() == 1
    assert AuditEvent.objects.filter(action="payments.online_succeeded").count() == 1


@pytest.mark.django_db
def test_the_idempotency_key_is_per_attempt_and_unguessable(world: World) -> None:
    one = online.idempotency_key(world.notice, 1)
    assert one == online.idempotency_key(world.notice, 1)
    assert one != online.idempotency_key(world.notice, 2)
    assert world.notice.notice_number not in one
    assert len(one) <= 64


def test_signing_uses_the_current_time_by_default() -> None:
    header = sign(SECRET, BODY)
    t = int(header.split(",")[0].removeprefix("t="))
    assert abs(t - time.time()) < 60
