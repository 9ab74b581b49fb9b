"""The in-app inbox channel: an item per delivery, once, even when sent again."""

from __future__ import annotations

from typing import Any

import pytest

from cityhall.notices import channels
from cityhall.notices.models import InboxItem, Message
from tests.conftest import make_resident
from tests.notices.test_channels_support import outgoing

pytestmark = pytest.mark.django_db


def test_inbox_adds_one_item_per_delivery_even_when_sent_again(db: Any) -> None:
    user = make_resident("inbox@example.jp")
    message = Message.objects.create(topic="events", content={})
    item = outgoing(channel="inbox", addresses=[], user_id=user.pk, message_id=message.pk)
    sender = channels.sender("inbox")

    first = sender.send([item])
    again = sender.send([item])  # a worker died after sending; the batch is resumed

    assert first[0].ok and again[0].ok
    assert sender.idempotent is True
    [stored] = InboxItem.objects.filter(user=user)
    assert stored.source_key == f"delivery:{item.key}"
    assert stored.title == "夏祭りのお知らせ"
    assert stored.body.startswith("8月10日")
    assert stored.url == "https://city.iga.example/news/natsumatsuri/"
    assert stored.kind == "message" and not stored.urgent
    assert stored.message_id == message.pk


def test_an_urgent_delivery_is_an_alert(db: Any) -> None:
    user = make_resident("alert@example.jp")
    item = outgoing(channel="inbox", addresses=[], user_id=user.pk, urgent=True, subject="避難指示")
    [outcome] = channels.sender("inbox").send([item])
    assert outcome.ok
    stored = InboxItem.objects.get(user=user)
    assert stored.kind == "alert" and stored.urgent and stored.message_id is None


def test_every_active_resident_has_an_inbox(db: Any) -> None:
    active = make_resident("a@example.jp")
    gone = make_resident("b@example.jp")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert channels.sender("inbox").addresses([active.pk, gone.pk]) == {active.pk: []}
