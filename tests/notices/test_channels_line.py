"""LINE Messaging API against the loopback LINE server: push, multicast, retry keys,
429, 5xx and cool-down, 400, the 5,000-character limit, addresses, signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from django.utils import timezone

from cityhall.notices import channels
from cityhall.notices.channels import line as line_channel
from cityhall.notices.channels.failover import TokenBucket, cooling_down, mark_up
from cityhall.notices.models import LineLink
from tests.conftest import make_resident
from tests.notices.line_server import LineServer, utf16_length
from tests.notices.test_channels_support import FakeClock, line_server, outgoing

__all__ = ["line_server"]

pytestmark = pytest.mark.django_db


def line_item(user: str = "U" + "1" * 32, **fields: Any) -> Any:
    return outgoing(channel="line", addresses=[user], **fields)


def test_one_item_is_pushed_with_its_delivery_key_as_retry_key(line_server: LineServer) -> None:
    item = line_item()
    [outcome] = channels.sender("line").send([item])

    assert outcome.ok and outcome.provider == "line" and outcome.provider_ref
    [request] = line_server.accepted
    assert request.path == "/v2/bot/message/push"
    assert request.headers["authorization"] == f"Bearer {line_server.token}"
    assert request.headers["x-line-retry-key"] == item.key
    assert request.body["to"] == item.addresses[0]
    [(to, text)] = line_server.delivered
    assert to == item.addresses[0]
    assert text.startswith("夏祭りのお知らせ\n\n8月10日")
    assert text.endswith("https://city.iga.example/news/natsumatsuri/")


def test_same_text_goes_by_multicast_in_chunks_of_500(line_server: LineServer) -> None:
    same = [line_item(f"U{n:032d}") for n in range(1001)]
    other = line_item("U" + "f" * 32, subject="別のお知らせ")
    outcomes = channels.sender("line").send([*same, other])

    assert all(o.ok for o in outcomes) and len(outcomes) == 1002
    multicasts = [r for r in line_server.accepted if r.path.endswith("/multicast")]
    pushes = [r for r in line_server.accepted if r.path.endswith("/push")]
    assert [len(r.body["to"]) for r in multicasts] == [500, 500]
    # the one left over of the 1,001 goes alone, by push, with its own delivery key
    assert [r.body["to"] for r in pushes] == [same[-1].addresses[0], "U" + "f" * 32]
    assert pushes[0].headers["x-line-retry-key"] == same[-1].key
    assert len({r.headers["x-line-retry-key"] for r in multicasts}) == 2
    assert len(line_server.delivered) == 1002
    assert len({to for to, _text in line_server.delivered}) == 1002


def test_a_retry_after_a_lost_answer_is_not_delivered_twice(line_server: LineServer) -> None:
    batch = [line_item("U" + "1" * 32), line_item("U" + "2" * 32), line_item("U" + "3" * 32)]
    line_server.lose_next_answers(1)  # the multicast is carried out, its answer lost

    first = channels.sender("line").send(batch)
    assert [(o.ok, o.permanent) for o in first] == [(False, False)] * 3
    assert cooling_down("line", "line")
    assert len(line_server.delivered) == 3

    mark_up("line", "line")
    again = channels.sender("line").send(batch)
    assert all(o.ok for o in again)
    assert {o.provider_ref for o in again} == {
        line_server._retry_keys[line_server.accepted[0].headers["x-line-retry-key"]]
    }
    assert len(line_server.delivered) == 3  # LINE answered 409: already accepted
    assert line_server.seen[-1].path.endswith("/multicast")


def test_429_is_a_passing_failure_and_the_worker_waits(line_server: LineServer) -> None:
    clock = FakeClock()
    bucket = TokenBucket(0, clock=clock.clock, sleep=clock.sleep)
    sender = line_channel.LineSender(bucket=bucket)
    line_server.fail_next(status=429, retry_after="3")
    batch = [line_item("U" + "1" * 32), line_item("U" + "2" * 32, subject="二つ目")]

    outcomes = sender.send(batch)

    assert [(o.ok, o.permanent) for o in outcomes] == [(False, False), (False, False)]
    assert all("rate limited" in o.error for o in outcomes)
    assert len(line_server.seen) == 1  # the second request was not even tried
    assert not cooling_down("line", "line")  # LINE is up, only busy
    assert sender.send([line_item()])[0].ok
    assert clock.slept == [3.0]


def test_5xx_is_a_passing_failure_and_line_cools_down(line_server: LineServer) -> None:
    line_server.fail_next(status=500)
    [outcome] = channels.sender("line").send([line_item()])

    assert not outcome.ok and not outcome.permanent and "500" in outcome.error
    assert cooling_down("line", "line")
    seen = len(line_server.seen)
    [later] = channels.sender("line").send([line_item()])
    assert not later.ok and not later.permanent and "cooling down" in later.error
    assert len(line_server.seen) == seen  # not asked while cooling down


def test_connection_refused_is_provider_down(line_server: LineServer, settings: Any) -> None:
    from tests.conftest import free_port

    settings.LINE_API_URL = f"http://127.0.0.1:{free_port()}"
    [outcome] = channels.sender("line").send([line_item()])
    assert not outcome.ok and not outcome.permanent
    assert cooling_down("line", "line")


def test_400_and_missing_links_are_permanent(line_server: LineServer) -> None:
    line_server.fail_next(status=400)
    bad, unlinked = channels.sender("line").send(
        [line_item(), outgoing(channel="line", addresses=[], subject="x")]
    )
    assert not bad.ok and bad.permanent and bad.error.startswith("400")
    assert not unlinked.ok and unlinked.permanent
    assert not cooling_down("line", "line")


def test_a_long_text_is_cut_cleanly_within_5000(line_server: LineServer) -> None:
    sentence = "避難所の場所と持ち物を確認してください。😀\n"
    body = sentence * 600  # about 13,000 UTF-16 units
    url = "https://city.iga.example/news/bosai/"
    item = line_item(body=body, url=url)

    text = line_channel.compose(item)
    assert utf16_length(text) <= 5000
    assert text.endswith("…\n\n" + url)
    assert text.split("\n\n")[1].rstrip("…").endswith("😀")  # ends at a whole line
    [outcome] = channels.sender("line").send([item])
    assert outcome.ok
    assert line_server.delivered[0][1] == text


def test_a_short_text_is_left_alone() -> None:
    item = line_item(body="短い本文", url="")
    assert line_channel.compose(item) == "夏祭りのお知らせ\n\n短い本文"


def test_addresses_are_linked_accounts_that_did_not_block(db: Any) -> None:
    linked = make_resident("linked@example.jp")
    blocked = make_resident("blocked@example.jp")
    none = make_resident("none@example.jp")
    LineLink.objects.create(user=linked, line_user_id="U" + "1" * 32)
    LineLink.objects.create(user=blocked, line_user_id="U" + "2" * 32, blocked_at=timezone.now())

    found = channels.sender("line").addresses([linked.pk, blocked.pk, none.pk])
    assert found == {linked.pk: ["U" + "1" * 32]}
    assert channels.sender("line").idempotent is True


def test_signature_is_hmac_sha256_of_the_body(settings: Any) -> None:
    settings.LINE_CHANNEL_SECRET = "s3cret"
    body = b'{"events":[]}'
    good = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()

    assert line_channel.verify_signature(body, good)
    assert not line_channel.verify_signature(body + b" ", good)
    assert not line_channel.verify_signature(body, "")
    assert not line_channel.verify_signature(body, "not base64 at all ☃")
    settings.LINE_CHANNEL_SECRET = ""
    assert not line_channel.verify_signature(body, good)


def test_available_channels_follow_the_configuration(settings: Any) -> None:
    settings.LINE_CHANNEL_ACCESS_TOKEN = ""
    assert "line" not in channels.available()
    assert channels.available()[0] == "email" and channels.available()[-1] == "inbox"
    settings.LINE_CHANNEL_ACCESS_TOKEN = "token"
    assert channels.available()[:2] == ["email", "line"]
    with pytest.raises(ValueError):
        channels.sender("pigeon")
