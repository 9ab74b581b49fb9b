"""Sending: real SMTP (aiosmtpd on loopback), retries with back-off, permanent failures,
at most once when a worker dies after the provider call, opened, purge."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.notices import channels
from cityhall.notices.models import Delivery, InboxItem, Message
from cityhall.notices.services import delivery, messages
from tests.conftest import SmtpSink, free_port
from tests.notices.conftest import make_notice_resident

pytestmark = pytest.mark.django_db

VALUES = {"event": "Ninja festival", "date": "1 April"}


def _send_to(n: int, template: Any, actor: Any, **resident: Any) -> Message:
    for i in range(n):
        make_notice_resident(f"r{i:03d}@example.jp", **resident)
    return messages.create_message(template=template, values=VALUES, filters={}, actor=actor)


def test_email_goes_out_over_smtp_once_with_name_and_unsubscribe(
    smtp_server: SmtpSink, news_template: Any, koho: Any
) -> None:
    hanako = make_notice_resident("hanako@example.jp", display_name="Hanako", language="en")
    make_notice_resident("taro@example.jp", language="ja")
    message = messages.create_message(template=news_template, values=VALUES, filters={}, actor=koho)
    assert delivery.send_pending() == 2
    assert len(smtp_server.messages) == 2
    mail = smtp_server.last_to("hanako@example.jp")
    assert mail["Subject"] == "[en] Ninja festival on 1 April"
    plain = mail.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Dear Hanako, Ninja festival is on 1 April." in text
    assert "/unsubscribe/" in mail["List-Unsubscribe"]
    taro = smtp_server.last_to("taro@example.jp").get_body(("plain",))
    assert taro is not None and "((name))" not in taro.get_content()
    row = Delivery.objects.get(message=message, user=hanako)
    assert row.state == Delivery.State.SENT and row.attempts == 1 and row.sent_at
    assert row.provider == "smtp" and str(row.key) in row.provider_ref
    message.refresh_from_db()
    assert message.state == Message.State.DONE and message.finished_at
    assert message.stats == {"email": {"sent": 2}}
    assert messages.board(message)["done"] is True
    assert delivery.send_pending() == 0
    assert len(smtp_server.messages) == 2


def test_alert_email_has_no_unsubscribe_and_inbox_gets_an_item(
    smtp_server: SmtpSink, alert_template: Any, bosai: Any
) -> None:
    make_notice_resident("a@example.jp", consents=["emergency"], channels=[])
    message = messages.send_alert(
        template=alert_template,
        level="level4",
        districts=[],
        values={"area": "Iga", "shelter": "school"},
        actor=bosai,
    )
    assert delivery.send_pending() == 2
    mail = smtp_server.last_to("a@example.jp")
    assert mail["List-Unsubscribe"] is None
    item = InboxItem.objects.get()
    assert item.urgent and item.message_id == message.pk
    assert messages.board(message) == {
        "channels": {"email": {"sent": 1}, "inbox": {"sent": 1}},
        "total": 2,
        "done": True,
    }


@pytest.fixture
def picky_smtp(settings: Any) -> Iterator[SmtpSink]:
    """An SMTP server that says 451 (try later) to flaky@… and 550 (no such user) to gone@…."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("flaky@"):
                return "451 4.3.0 try again later"
            if address.startswith("gone@"):
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()


def test_passing_failures_retry_with_back_off_then_fail(
    picky_smtp: SmtpSink, news_template: Any, koho: Any, settings: Any
) -> None:
    settings.NOTICES_RETRY_SECONDS = 30
    settings.NOTICES_MAX_ATTEMPTS = 3
    flaky = make_notice_resident("flaky@example.jp")
    gone = make_notice_resident("gone@example.jp")
    make_notice_resident("fine@example.jp")
    message = messages.create_message(template=news_template, values=VALUES, filters={}, actor=koho)
    started = timezone.now()
    assert delivery.send_pending() == 3
    assert [str(m["To"]) for m in picky_smtp.messages] == ["fine@example.jp"]
    permanent = Delivery.objects.get(message=message, user=gone)
    assert permanent.state == Delivery.State.FAILED and permanent.attempts == 1
    assert "550" in permanent.error
    row = Delivery.objects.get(message=message, user=flaky)
    assert row.state == Delivery.State.QUEUED and row.attempts == 1 and "451" in row.error
    waits = []
    # Back-off doubles from the base (with up to 20 % jitter): 30 s, then 60 s.
    for attempt, base in ((1, 30), (2, 60)):
        wait = (row.next_attempt_at - started).total_seconds()
        assert base <= wait <= base * 1.2 + 5, (attempt, wait)
        waits.append(wait)
        assert delivery.send_pending() == 0  # not due yet
        Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        started = timezone.now()
        assert delivery.send_pending() == 1
        row.refresh_from_db()
        assert row.attempts == attempt + 1
    assert row.state == Delivery.State.FAILED  # third try was the last one
    message.refresh_from_db()
    assert message.state == Message.State.DONE
    assert message.stats == {"email": {"failed": 2, "sent": 1}}
    assert len(picky_smtp.messages) == 1


def test_provider_down_is_a_passing_failure(news_template: Any, koho: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens
    settings.NOTICES_EMAIL_FALLBACK = ""
    message = _send_to(2, news_template, koho)
    assert delivery.send_pending() == 2
    rows = list(Delivery.objects.filter(message=message))
    assert {(r.state, r.attempts) for r in rows} == {("queued", 1)}
    assert all(r.next_attempt_at > timezone.now() for r in rows)
    message.refresh_from_db()
    assert message.state == Message.State.SENDING


def test_residents_who_withdraw_after_queuing_get_nothing(
    smtp_server: SmtpSink, news_template: Any, koho: Any
) -> None:
    from cityhall.people.models import Consent

    message = _send_to(3, news_template, koho)
    first = Delivery.objects.filter(message=message).order_by("id").first()
    assert first is not None
    Consent.objects.create(
        user_id=first.user_id,
        purpose="notify",
        granted=False,
        created_at=timezone.now() + dt.timedelta(seconds=1),
    )
    assert delivery.send_pending() == 3
    first.refresh_from_db()
    assert first.state == Delivery.State.SKIPPED
    assert len(smtp_server.messages) == 2
    assert first.user.email not in {str(m["To"]) for m in smtp_server.messages}


class Killed(BaseException):
    """Not an Exception: nothing in the engine catches it, like a worker that dies."""


def test_worker_dying_after_the_provider_call_never_sends_twice(
    smtp_server: SmtpSink, news_template: Any, koho: Any, monkeypatch: Any, settings: Any
) -> None:
    """Die right after the SMTP server accepted the 2nd sub-batch, before the outcomes are
    written; resume: nobody gets the e-mail twice, and every never-tried one arrives."""
    monkeypatch.setattr(delivery, "SUB_BATCH", 5)
    message = _send_to(23, news_template, koho)
    real_sender = channels.sender
    calls = {"n": 0}

    class Dying:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.channel = inner.channel
            self.idempotent = inner.idempotent

        def addresses(self, user_ids: Any) -> Any:
            return self.inner.addresses(user_ids)

        def send(self, batch: Any) -> Any:
            outcomes = self.inner.send(batch)
            calls["n"] += 1
            if calls["n"] == 2:
                raise Killed
            return outcomes

    monkeypatch.setattr(channels, "sender", lambda ch, **kw: Dying(real_sender(ch, **kw)))
    with pytest.raises(Killed):
        delivery.send_pending(batch=15)
    states = Counter(Delivery.objects.filter(message=message).values_list("state", flat=True))
    assert states == {"sent": 5, "sending": 5, "claimed": 5, "queued": 8}
    assert len(smtp_server.messages) == 10

    monkeypatch.setattr(channels, "sender", real_sender)
    # A new worker right away leaves the dead one's rows alone (they may still be working) …
    assert delivery.send_pending() == 8
    assert len(smtp_server.messages) == 18
    # … and after the claim timeout recovers them: claimed → queued, sending → unknown.
    later = timezone.now() + dt.timedelta(seconds=settings.NOTICES_CLAIM_TIMEOUT + 1)
    assert delivery.recover_stale(later) == {"requeued": 5, "unknown": 5, "retried": 0}
    assert delivery.send_pending() == 5
    received = Counter(str(m["To"]) for m in smtp_server.messages)
    assert max(received.values()) == 1  # at most once
    assert len(received) == 23  # here the 5 'unknown' ones had reached the server
    states = Counter(Delivery.objects.filter(message=message).values_list("state", flat=True))
    assert states == {"sent": 18, "unknown": 5}
    message.refresh_from_db()
    assert message.state == Message.State.DONE
    assert message.stats == {"email": {"sent": 18, "unknown": 5}}
    assert AuditEvent.objects.filter(action="notices.deliveries_recovered").exists()


def test_idempotent_channel_is_retried_after_a_worker_died(news_template: Any, koho: Any) -> None:
    message = _send_to(2, news_template, koho, channels=["inbox"])
    Delivery.objects.filter(message=message).update(
        state="sending", claim="dead", claimed_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert delivery.recover_stale() == {"requeued": 0, "unknown": 0, "retried": 2}
    assert delivery.send_pending() == 2
    assert InboxItem.objects.count() == 2
    # Sending the same delivery key again adds nothing (the inbox's unique source key).
    Delivery.objects.filter(message=message).update(state="queued")
    assert delivery.send_pending() == 2
    assert InboxItem.objects.count() == 2


def test_a_delivery_exists_once_per_message_resident_and_channel(
    news_template: Any, koho: Any
) -> None:
    message = _send_to(1, news_template, koho)
    row = Delivery.objects.get(message=message)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(message=message, user_id=row.user_id, channel=row.channel)
    inserted = delivery.insert_deliveries(message, [delivery.Target(row.user_id, "inbox", "ja")])
    assert inserted == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        delivery.insert_deliveries(message, [delivery.Target(row.user_id, "inbox", "ja")])


def test_bulk_inserted_rows_read_back_like_orm_rows(news_template: Any, koho: Any) -> None:
    message = _send_to(3, news_template, koho)
    rows = list(Delivery.objects.filter(message=message))
    assert len({r.key for r in rows}) == 3
    assert all(r.state == "queued" and r.attempts == 0 and r.claim == "" for r in rows)
    assert all(r.next_attempt_at.tzinfo is not None for r in rows)
    assert all(abs((r.next_attempt_at - timezone.now()).total_seconds()) < 60 for r in rows)


def test_mark_opened(smtp_server: SmtpSink, news_template: Any, koho: Any) -> None:
    message = _send_to(1, news_template, koho)
    row = Delivery.objects.get(message=message)
    assert delivery.mark_opened(row.key) is False  # not sent yet
    delivery.send_pending()
    assert delivery.mark_opened(str(row.key)) is True
    row.refresh_from_db()
    assert row.state == Delivery.State.OPENED and row.opened_at
    assert delivery.mark_opened(row.key) is False
    assert delivery.mark_opened("not-a-uuid") is False


def test_purge_keeps_counts_and_drops_old_rows(
    smtp_server: SmtpSink, news_template: Any, koho: Any, settings: Any
) -> None:
    from django.core.management import call_command

    old = _send_to(2, news_template, koho)
    delivery.send_pending()
    recent = messages.create_message(template=news_template, values=VALUES, filters={}, actor=koho)
    delivery.send_pending()
    Message.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - dt.timedelta(days=settings.NOTICES_RETENTION_DAYS + 1)
    )
    user = Delivery.objects.filter(message=recent).first().user  # type: ignore[union-attr]
    InboxItem.objects.create(
        user=user,
        kind="message",
        source_key="old",
        title="old",
        created_at=timezone.now() - dt.timedelta(days=settings.NOTICES_INBOX_RETENTION_DAYS + 1),
    )
    InboxItem.objects.create(user=user, kind="message", source_key="new", title="new")
    call_command("purge_notices", stdout=__import__("io").StringIO())
    assert not Delivery.objects.filter(message=old).exists()
    assert Delivery.objects.filter(message=recent).count() == 2
    assert list(InboxItem.objects.values_list("source_key", flat=True)) == ["new"]
    old.refresh_from_db()
    assert old.stats == {"email": {"sent": 2}}
    assert messages.board(old) == {"channels": {"email": {"sent": 2}}, "total": 2, "done": True}
    assert delivery.purge() == {"messages": 0, "deliveries": 0, "inbox_items": 0}
    assert AuditEvent.objects.filter(action="notices.purged").count() == 1


def test_send_notices_once_dispatches_due_messages_and_sends(
    smtp_server: SmtpSink, news_template: Any, koho: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from cityhall.notices import tasks

    make_notice_resident("a@example.jp")
    message = messages.create_message(
        template=news_template,
        values=VALUES,
        filters={},
        scheduled_at=timezone.now() + dt.timedelta(minutes=1),
        actor=koho,
    )
    assert tasks.queue_message_task.call(message.pk) == 0  # not due yet
    Message.objects.filter(pk=message.pk).update(scheduled_at=timezone.now())
    out = StringIO()
    call_command("send_notices", "--once", "--channel", "email", stdout=out)
    assert "handled 1 deliveries" in out.getvalue()
    assert [str(m["To"]) for m in smtp_server.messages] == ["a@example.jp"]
    message.refresh_from_db()
    assert message.state == Message.State.DONE
    assert tasks.send_deliveries_task.call("email") == 0
