"""The push channel end to end: subscription rows → ``sender("push").send(...)`` (and the
delivery engine) → a real loopback push service that checks VAPID, the headers, and
decrypts each body with ``http_ece``; gone subscriptions, throttling and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.notices.channels import sender
from cityhall.notices.channels.base import Outgoing
from cityhall.notices.channels.push import ALERT_TTL, DEFAULT_TTL, payload
from cityhall.notices.models import Delivery, Message, PushSubscription
from cityhall.notices.services import delivery, push_keys
from cityhall.notices.webpush import rfc8291
from tests.notices.conftest import make_notice_resident
from tests.notices.push_server import BrowserSubscription, PushServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def push_server() -> Iterator[PushServer]:
    server = PushServer().start()
    try:
        yield server
    finally:
        server.stop()


def _row(user: Any, sub: BrowserSubscription) -> PushSubscription:
    return PushSubscription.objects.create(
        user=user, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth
    )


def _item(user: Any, key: str, **fields: Any) -> Outgoing:
    push = sender("push")
    defaults: dict[str, Any] = {
        "key": key,
        "delivery_id": 1,
        "message_id": 1,
        "user_id": user.pk,
        "channel": "push",
        "addresses": push.addresses([user.pk]).get(user.pk, []),
        "language": "ja",
        "subject": "夏祭りのお知らせ",
        "body": "8月3日に上野公園で夏祭りを開きます。",
        "url": "https://city.example/news/natsumatsuri/",
        "topic": "events",
    }
    defaults.update(fields)
    return Outgoing(**defaults)


def test_addresses_are_each_residents_subscriptions_as_json(push_server: PushServer) -> None:
    a = make_notice_resident("a@example.jp", channels=["push"])
    b = make_notice_resident("b@example.jp", channels=["push"])
    nobody = make_notice_resident("c@example.jp")
    subs = [push_server.subscribe(), push_server.subscribe(), push_server.subscribe()]
    _row(a, subs[0]), _row(a, subs[1]), _row(b, subs[2])
    found = sender("push").addresses([a.pk, b.pk, nobody.pk])
    assert nobody.pk not in found
    assert [json.loads(x)["endpoint"] for x in found[a.pk]] == [subs[0].endpoint, subs[1].endpoint]
    assert json.loads(found[b.pk][0]) == {
        "endpoint": subs[2].endpoint,
        "p256dh": subs[2].p256dh,
        "auth": subs[2].auth,
    }
    assert sender("push").idempotent is False


def test_a_message_reaches_every_browser_encrypted_with_vapid(push_server: PushServer) -> None:
    user = make_notice_resident("hanako@example.jp", channels=["push"], language="en")
    key = push_keys.vapid_public_key()
    phone, laptop = push_server.subscribe(key), push_server.subscribe(key)
    _row(user, phone), _row(user, laptop)
    item = _item(user, "6f1c1d9e-0000-4000-8000-000000000001", language="en")

    [outcome] = sender("push").send([item])

    assert outcome.ok and outcome.provider == "webpush", outcome
    assert outcome.provider_ref.startswith("/message/")
    assert push_server.refused == []
    for sub in (phone, laptop):
        [message] = push_server.messages_for(sub)
        assert message == {
            "title": "夏祭りのお知らせ",
            "body": "8月3日に上野公園で夏祭りを開きます。",
            "url": "https://city.example/news/natsumatsuri/",
            "key": item.key,
            "urgent": False,
            "lang": "en",
        }
    first = push_server.received[0]
    assert first.headers["ttl"] == str(DEFAULT_TTL)
    assert first.headers["urgency"] == "normal"
    assert first.headers["content-encoding"] == "aes128gcm"
    assert "topic" not in first.headers
    assert first.claims["aud"] == push_server.origin
    assert first.claims["sub"].startswith("mailto:")
    assert PushSubscription.objects.filter(user=user, last_success_at__isnull=False).count() == 2


def test_alerts_go_with_high_urgency_a_day_ttl_and_a_topic(push_server: PushServer) -> None:
    user = make_notice_resident("alert@example.jp", channels=["push"])
    sub = push_server.subscribe()
    _row(user, sub)
    item = _item(
        user,
        "6f1c1d9e-0000-4000-8000-000000000002",
        subject="避難指示",
        body="上野東部に避難指示を出しました。",
        topic="emergency",
        urgent=True,
        extra={"push_topic": "alert-ueno"},
    )
    [outcome] = sender("push").send([item])
    assert outcome.ok
    [received] = push_server.received
    assert received.headers["urgency"] == "high"
    assert received.headers["ttl"] == str(ALERT_TTL)
    assert received.headers["topic"] == "alert-ueno"
    assert received.message["urgent"] is True


def test_a_long_body_is_cut_so_the_encrypted_message_fits_4096_bytes(
    push_server: PushServer,
) -> None:
    user = make_notice_resident("long@example.jp", channels=["push"])
    sub = push_server.subscribe()
    _row(user, sub)
    body = "長い本文です。" * 1000  # ~21,000 bytes of UTF-8
    item = _item(user, "6f1c1d9e-0000-4000-8000-000000000003", body=body)
    assert len(payload(item)) <= rfc8291.MAX_PLAINTEXT
    [outcome] = sender("push").send([item])
    assert outcome.ok, outcome
    [received] = push_server.received
    assert len(received.body) <= 4096
    shown = received.message["body"]
    assert shown.endswith("…") and body.startswith(shown[:-1])
    assert len(shown) > 1000  # cut, not emptied


def test_a_gone_subscription_is_deleted_and_fails_for_good_when_it_was_the_only_one(
    push_server: PushServer,
) -> None:
    user = make_notice_resident("gone@example.jp", channels=["push"])
    sub = push_server.subscribe()
    row = _row(user, sub)
    push_server.expire(sub)
    item = _item(user, "6f1c1d9e-0000-4000-8000-000000000004")
    [outcome] = sender("push").send([item])
    assert not outcome.ok and outcome.permanent
    assert "410" in outcome.error
    assert not PushSubscription.objects.filter(pk=row.pk).exists()
    event = AuditEvent.objects.get(action="notices.push_subscription_gone")
    assert event.subject_id == user.pk and event.target_id == str(row.pk)


def test_one_gone_browser_of_two_still_delivers_to_the_other(push_server: PushServer) -> None:
    user = make_notice_resident("two@example.jp", channels=["push"])
    old, new = push_server.subscribe(), push_server.subscribe()
    old_row = _row(user, old)
    _row(user, new)
    push_server.expire(old)
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-000000000005")])
    assert outcome.ok
    assert len(push_server.messages_for(new)) == 1
    assert not PushSubscription.objects.filter(pk=old_row.pk).exists()
    assert PushSubscription.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_passing_failures(
    push_server: PushServer, status: int
) -> None:
    user = make_notice_resident("busy@example.jp", channels=["push"])
    sub = push_server.subscribe()
    row = _row(user, sub)
    push_server.answer_next(status)
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-000000000006")])
    assert not outcome.ok and not outcome.permanent
    assert str(status) in outcome.error
    row.refresh_from_db()
    assert row.failures == 1  # kept, counted
    # next time the service is fine again
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-000000000006")])
    assert outcome.ok
    row.refresh_from_db()
    assert row.failures == 0


def test_a_push_service_that_refuses_our_vapid_key_is_a_permanent_failure(
    push_server: PushServer,
) -> None:
    user = make_notice_resident("otherkey@example.jp", channels=["push"])
    sub = push_server.subscribe(application_server_key="B" + "x" * 86)  # another key
    _row(user, sub)
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-000000000007")])
    assert not outcome.ok and outcome.permanent
    assert push_server.refused[-1][1] == 403


def test_an_unreachable_push_service_is_a_passing_failure(push_server: PushServer) -> None:
    user = make_notice_resident("down@example.jp", channels=["push"])
    sub = push_server.subscribe()
    _row(user, sub)
    push_server.stop()
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-000000000008")])
    assert not outcome.ok and not outcome.permanent


def test_no_subscription_or_push_switched_off_fails_for_good(
    push_server: PushServer, settings: Any
) -> None:
    user = make_notice_resident("none@example.jp", channels=["push"])
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-000000000009")])
    assert not outcome.ok and outcome.permanent
    sub = push_server.subscribe()
    _row(user, sub)
    settings.VAPID_PRIVATE_KEY = ""
    settings.PRODUCTION = True
    [outcome] = sender("push").send([_item(user, "6f1c1d9e-0000-4000-8000-00000000000a")])
    assert not outcome.ok and outcome.permanent
    assert push_server.received == []


def test_the_delivery_engine_sends_a_push_and_the_click_marks_it_opened(
    push_server: PushServer, client: Client
) -> None:
    user = make_notice_resident(
        "engine@example.jp", channels=["push"], interests=["events"], display_name="花子"
    )
    sub = push_server.subscribe(push_keys.vapid_public_key())
    _row(user, sub)
    message = Message.objects.create(
        kind=Message.Kind.NEWS,
        topic="events",
        content={"ja": {"subject": "((name))さんへ", "body": "夏祭りがあります。"}},
        state=Message.State.SENDING,
    )
    row = Delivery.objects.create(message=message, user=user, channel="push", language="ja")

    assert delivery.send_pending(channel="push") == 1

    row.refresh_from_db()
    assert row.state == Delivery.State.SENT, row.error
    [received] = push_server.messages_for(sub)
    assert received["title"] == "花子さんへ"
    assert received["body"] == "夏祭りがあります。"
    assert received["key"] == str(row.key)
    assert received["lang"] == "ja"

    # the service worker's notificationclick posts the key: no session, no CSRF token
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("notices:opened", args=[received["key"]]))
    assert response.status_code == 204
    row.refresh_from_db()
    assert row.state == Delivery.State.OPENED and row.opened_at is not None
    # an unknown key changes nothing and says nothing more
    response = csrf_client.post(
        reverse("notices:opened", args=["00000000-0000-4000-8000-000000000000"])
    )
    assert response.status_code == 204
    assert csrf_client.get(reverse("notices:opened", args=[received["key"]])).status_code == 405
