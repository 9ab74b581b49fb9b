"""E-mail against real SMTP servers on loopback: the message as it arrives, one connection
per batch, refused recipients, failover with cool-down, rate limit, addresses."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest
from django.core.cache import cache

from cityhall.notices import channels
from cityhall.notices.channels import email as email_channel
from cityhall.notices.channels.failover import TokenBucket, cooling_down, mark_up
from tests.conftest import free_port, make_resident
from tests.notices.test_channels_support import (
    BusyGreeter,
    CountingSmtp,
    FakeClock,
    counting_smtp,
    outgoing,
)

__all__ = ["counting_smtp"]

pytestmark = pytest.mark.django_db


def _parts(message: Any) -> tuple[str, str]:
    """(text, HTML) of a multipart/alternative message, decoded."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_japanese_message_arrives_whole_with_its_headers(smtp_server: Any, settings: Any) -> None:
    settings.NOTICES_EMAIL_FALLBACK = ""
    item = outgoing(
        addresses=["hanako@example.jp"],
        unsubscribe_url="https://city.iga.example/unsubscribe/abc123/",
    )
    [outcome] = channels.sender("email").send([item])

    assert outcome.ok and outcome.key == item.key and outcome.provider == "smtp"
    message = smtp_server.last_to("hanako@example.jp")
    assert message["Subject"] == "夏祭りのお知らせ"
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    assert "8月10日に上野公園で夏祭りを開きます。" in text
    assert "https://city.iga.example/news/natsumatsuri/" in text
    assert '<html lang="ja">' in html
    assert "夏祭りのお知らせ</h1>" in html
    assert 'name="color-scheme" content="light dark"' in html
    assert "prefers-color-scheme: dark" in html
    assert message["List-Unsubscribe"] == "<https://city.iga.example/unsubscribe/abc123/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == f"<{item.key}@city.iga.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert outcome.provider_ref == message["Message-ID"]


def test_bytes_on_the_wire_are_encoded_words_and_utf8(counting_smtp: CountingSmtp) -> None:
    ja = outgoing(addresses=["hanako@example.jp"], subject="避難所を開設しました", urgent=True)
    pt = outgoing(
        addresses=["joao@example.com"],
        language="pt-br",
        subject="Inscrições abertas: creche municipal",
        body="As inscrições para a creche estão abertas até sexta-feira.",
    )
    outcomes = channels.sender("email").send([ja, pt])

    assert [o.ok for o in outcomes] == [True, True]
    raw_ja, raw_pt = counting_smtp.raw
    head_ja = raw_ja.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw_ja else raw_ja.split(b"\n\n")[0]
    assert b"Subject: =?utf-8?" in head_ja
    assert "避難所".encode() not in head_ja  # headers are 7-bit: the subject is an encoded word
    parsed_ja = message_from_bytes(raw_ja, policy=policy.default)
    assert parsed_ja["Subject"].endswith("避難所を開設しました")
    assert parsed_ja["Subject"].startswith("[")  # urgent, marked
    assert parsed_ja["List-Unsubscribe"] is None  # alerts carry no unsubscribe link
    text, html = _parts(parsed_ja)
    assert "8月10日" in text
    plain = parsed_ja.get_body(preferencelist=("plain",))
    assert plain is not None and 'charset="utf-8"' in str(plain["Content-Type"])

    parsed_pt = message_from_bytes(raw_pt, policy=policy.default)
    assert parsed_pt["Subject"] == "Inscrições abertas: creche municipal"
    text, html = _parts(parsed_pt)
    assert "As inscrições para a creche estão abertas até sexta-feira." in text
    assert '<html lang="pt-BR">' in html
    assert parsed_pt["Content-Language"] == "pt-BR"


def test_one_connection_carries_the_whole_batch(counting_smtp: CountingSmtp) -> None:
    batch = [outgoing(addresses=[f"r{n}@example.jp"], user_id=n) for n in range(40)]
    outcomes = channels.sender("email").send(batch)

    assert all(o.ok for o in outcomes)
    assert [o.key for o in outcomes] == [item.key for item in batch]
    assert len(counting_smtp.raw) == 40
    assert counting_smtp.connections == 1
    assert sorted(rcpts[0] for _from, rcpts in counting_smtp.envelopes) == sorted(
        f"r{n}@example.jp" for n in range(40)
    )


def test_a_refused_recipient_fails_only_its_own_item(counting_smtp: CountingSmtp) -> None:
    batch = [
        outgoing(addresses=["first@example.jp"]),
        outgoing(addresses=["gone@example.jp"]),
        outgoing(addresses=["busy@example.jp"]),
        outgoing(addresses=[]),
        outgoing(addresses=["last@example.jp"]),
    ]
    first, gone, busy, nowhere, last = channels.sender("email").send(batch)

    assert first.ok and last.ok
    assert not gone.ok and gone.permanent and "550" in gone.error
    assert not busy.ok and not busy.permanent and "450" in busy.error
    assert not nowhere.ok and nowhere.permanent
    assert [rcpts for _from, rcpts in counting_smtp.envelopes] == [
        ["first@example.jp"],
        ["last@example.jp"],
    ]
    assert counting_smtp.connections == 1


def test_closed_primary_fails_over_to_the_second_server(
    counting_smtp: CountingSmtp, settings: Any
) -> None:
    settings.EMAIL_PORT = free_port()  # nothing listens there: connection refused
    settings.NOTICES_EMAIL_FALLBACK = f"127.0.0.1:{counting_smtp.port}"
    batch = [outgoing(addresses=[f"r{n}@example.jp"]) for n in range(3)]

    outcomes = channels.sender("email").send(batch)

    assert all(o.ok for o in outcomes)
    assert {o.provider for o in outcomes} == {"smtp-fallback"}
    assert len(counting_smtp.raw) == 3
    assert cooling_down("email", "smtp")


def test_a_primary_that_greets_with_421_cools_down_then_is_tried_again(
    counting_smtp: CountingSmtp, settings: Any
) -> None:
    primary = BusyGreeter()
    try:
        settings.EMAIL_PORT = primary.port
        settings.NOTICES_EMAIL_FALLBACK = f"127.0.0.1:{counting_smtp.port}"

        first = channels.sender("email").send([outgoing()])
        assert first[0].ok and first[0].provider == "smtp-fallback"
        assert primary.connections == 1

        # a second worker (a fresh sender) agrees through the cache: the primary is skipped
        second = channels.sender("email").send([outgoing(), outgoing()])
        assert all(o.ok and o.provider == "smtp-fallback" for o in second)
        assert primary.connections == 1

        mark_up("email", "smtp")  # the cool-down is over
        third = channels.sender("email").send([outgoing()])
        assert third[0].ok and third[0].provider == "smtp-fallback"
        assert primary.connections == 2
        assert len(counting_smtp.raw) == 4
    finally:
        primary.stop()


def test_every_server_down_is_a_passing_failure(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.NOTICES_EMAIL_FALLBACK = f"127.0.0.1:{free_port()}"

    outcomes = channels.sender("email").send([outgoing(), outgoing()])

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False), (False, False)]
    assert all("smtp-fallback" in o.error for o in outcomes)
    assert cooling_down("email", "smtp") and cooling_down("email", "smtp-fallback")
    # while both cool down nothing is tried, and the answer is still a passing failure
    again = channels.sender("email").send([outgoing()])
    assert not again[0].ok and not again[0].permanent and "cooling down" in again[0].error
    cache.clear()


def test_rate_limit_takes_one_token_per_message(counting_smtp: CountingSmtp) -> None:
    clock = FakeClock()
    bucket = TokenBucket(20, burst=1, clock=clock.clock, sleep=clock.sleep)
    sender = email_channel.EmailSender(bucket=bucket)

    outcomes = sender.send([outgoing(addresses=[f"r{n}@example.jp"]) for n in range(11)])

    assert all(o.ok for o in outcomes)
    assert bucket.taken == 11
    # one token in hand, ten more at 20 a second: half a second of waiting, in all
    assert sum(clock.slept) == pytest.approx(10 / 20)


def test_token_bucket_counts_and_pauses() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, clock=clock.clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.take()
    assert clock.slept == []  # the burst is free
    bucket.take(3)
    assert sum(clock.slept) == pytest.approx(0.3)
    bucket.pause(2)
    bucket.take()
    assert sum(clock.slept) == pytest.approx(0.3 + 2 + 0.1, abs=0.11)

    unlimited = TokenBucket(0, clock=clock.clock, sleep=clock.sleep)
    before = len(clock.slept)
    for _ in range(1000):
        unlimited.take()
    assert unlimited.taken == 1000 and len(clock.slept) == before


def test_addresses_leave_out_placeholders_unless_asked(db: Any, monkeypatch: Any) -> None:
    real = make_resident("real@example.jp")
    placeholder = make_resident("r0001@residents.iga.invalid")
    inactive = make_resident("gone@example.jp")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    ids = [real.pk, placeholder.pk, inactive.pk]

    assert channels.sender("email").addresses(ids) == {real.pk: ["real@example.jp"]}
    bench = channels.sender("email", include_placeholder_addresses=True)
    assert set(bench.addresses(ids)) == {real.pk, placeholder.pk}
    monkeypatch.setattr(email_channel, "INCLUDE_PLACEHOLDER_ADDRESSES", True)
    assert set(channels.sender("email").addresses(ids)) == {real.pk, placeholder.pk}
    strict = channels.sender("email", include_placeholder_addresses=False)
    assert set(strict.addresses(ids)) == {real.pk}


def test_email_is_not_idempotent() -> None:
    assert channels.sender("email").idempotent is False
