"""Messages and alerts: validation before anything is queued, consent, quiet hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from cityhall.core.models import AuditEvent
from cityhall.notices.models import Delivery, Message, Segment
from cityhall.notices.services import delivery, messages
from cityhall.people.models import Consent
from tests.notices.conftest import make_notice_resident, make_template

pytestmark = pytest.mark.django_db

VALUES = {"event": "Ninja festival", "date": "1 April"}


def _deliveries(message: Message) -> set[tuple[str, str]]:
    return {
        (email, channel)
        for email, channel in Delivery.objects.filter(message=message).values_list(
            "user__email", "channel"
        )
    }


@pytest.fixture
def town(geography: dict[str, Any]) -> dict[str, Any]:
    """Residents covering every reason to be left out, in two districts."""
    d1, d2 = geography["ueno-tobu"], geography["aoyama-hokubu"]
    return {
        "ok": make_notice_resident("ok@example.jp", district=d1, channels=["email", "inbox"]),
        "line": make_notice_resident(
            "line@example.jp", district=d2, channels=["line"], line=True, language="vi"
        ),
        "no_consent": make_notice_resident("noconsent@example.jp", district=d1, consents=[]),
        "withdrawn": make_notice_resident("withdrawn@example.jp", district=d1),
        "no_topic": make_notice_resident("notopic@example.jp", district=d1, interests=["tax"]),
        "no_channel": make_notice_resident(
            "nochannel@example.jp", district=d1, channels=["line"], line=False
        ),
        "emergency_only": make_notice_resident(
            "emergencyonly@example.jp", district=d1, consents=["emergency"], channels=[]
        ),
        "placeholder": make_notice_resident("counter-1@example.invalid", district=d1),
        "d1": d1,
        "d2": d2,
    }


@pytest.fixture(autouse=True)
def _withdraw(request: Any) -> None:
    if "town" in request.fixturenames:
        town = request.getfixturevalue("town")
        Consent.objects.create(
            user=town["withdrawn"],
            purpose="notify",
            granted=False,
            created_at=timezone.now() + dt.timedelta(seconds=1),
        )


def test_message_reaches_only_residents_with_consent_topic_and_channel(
    town: dict[str, Any], news_template: Any, koho: Any
) -> None:
    message = messages.create_message(template=news_template, values=VALUES, filters={}, actor=koho)
    assert message.state == Message.State.SENDING
    assert _deliveries(message) == {
        ("ok@example.jp", "email"),
        ("ok@example.jp", "inbox"),
        ("line@example.jp", "line"),
    }
    assert message.recipients == 2
    row = Delivery.objects.get(message=message, user=town["line"])
    assert row.language == "vi"
    # Rendered per language, message-level values filled, ((name)) kept for sending.
    assert message.content["vi"]["body"] == "[vi] Dear ((name)), Ninja festival is on 1 April."
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"notices.message_created", "notices.message_queued"} <= actions


def test_channels_and_segment_narrow_the_message(
    town: dict[str, Any], news_template: Any, koho: Any
) -> None:
    segment = Segment.objects.create(name="Ueno east", filters={"districts": ["ueno-tobu"]})
    message = messages.create_message(
        template=news_template, values=VALUES, segment=segment, channels=["email"], actor=koho
    )
    assert _deliveries(message) == {("ok@example.jp", "email")}
    assert message.filters["districts"] == ["ueno-tobu"]
    assert message.segment == segment


def test_emergency_alert_reaches_emergency_consent_in_district_on_every_channel(
    town: dict[str, Any], alert_template: Any, bosai: Any
) -> None:
    make_notice_resident(
        "quiet@example.jp",
        district=town["d1"],
        consents=["emergency"],
        channels=["email"],
        quiet=(dt.time(0, 0), dt.time(23, 59)),
    )
    message = messages.send_alert(
        template=alert_template,
        level="level4",
        districts=["ueno-tobu"],
        values={"area": "Ueno", "shelter": "Ueno school"},
        actor=bosai,
    )
    assert message.kind == Message.Kind.EMERGENCY and message.topic == "emergency"
    assert message.filters == {"districts": ["ueno-tobu"]}
    assert message.article_id is not None
    got = _deliveries(message)
    # Every linked channel, chosen or not; no topic needed; notify consent not needed.
    assert ("ok@example.jp", "email") in got and ("ok@example.jp", "inbox") in got
    assert ("emergencyonly@example.jp", "email") in got
    assert ("emergencyonly@example.jp", "inbox") in got
    assert ("notopic@example.jp", "email") in got
    assert ("quiet@example.jp", "email") in got
    # Not: no emergency consent, other district, placeholder address (inbox only).
    emails = {e for e, _c in got}
    assert "noconsent@example.jp" not in emails
    assert "line@example.jp" not in emails
    assert ("counter-1@example.invalid", "email") not in got
    assert ("counter-1@example.invalid", "inbox") in got
    # Quiet hours ignored: everything is due now.
    assert not Delivery.objects.filter(message=message, next_attempt_at__gt=timezone.now()).exists()
    assert AuditEvent.objects.filter(action="notices.alert_sent").count() == 1


def test_alert_to_the_whole_city(town: dict[str, Any], alert_template: Any, bosai: Any) -> None:
    message = messages.send_alert(
        template=alert_template,
        level="level3",
        districts=[],
        values={"area": "Iga", "shelter": "schools"},
        actor=bosai,
    )
    assert ("line@example.jp", "line") in _deliveries(message)
    assert message.filters == {"districts": []}


def _refused(call: Any) -> dict[str, list[str]]:
    before = (Message.objects.count(), Delivery.objects.count())
    with translation.override("en"), pytest.raises(messages.MessageError) as caught:
        call()
    assert (Message.objects.count(), Delivery.objects.count()) == before
    return caught.value.errors


def test_bad_input_is_refused_before_anything_is_queued(
    town: dict[str, Any], news_template: Any, koho: Any, geography: dict[str, Any]
) -> None:
    inactive = make_template("old", is_active=False)
    errors = _refused(lambda: messages.create_message(template=inactive, values=VALUES, actor=koho))
    assert "not in use" in errors["template"][0]

    errors = _refused(
        lambda: messages.create_message(
            template=news_template, values={"event": "x"}, filters={}, actor=koho
        )
    )
    assert errors["values"] == ["The template has a placeholder with no value: ((date))."]

    errors = _refused(
        lambda: messages.create_message(
            template=news_template,
            values=VALUES,
            filters={},
            scheduled_at=timezone.now() - dt.timedelta(minutes=5),
            actor=koho,
        )
    )
    assert "in the past" in errors["scheduled_at"][0]

    errors = _refused(
        lambda: messages.create_message(
            template=news_template,
            values=VALUES,
            filters={"districts": ["aoyama-hokubu"], "languages": ["es"]},
            actor=koho,
        )
    )
    assert "Nobody in this segment" in errors["segment"][0]

    errors = _refused(
        lambda: messages.create_message(
            template=news_template, values=VALUES, filters={"districts": ["nowhere"]}, actor=koho
        )
    )
    assert any(k.startswith("filters") for k in errors)

    errors = _refused(
        lambda: messages.create_message(template=None, values=VALUES, filters={}, actor=koho)
    )
    assert errors["template"] == ["Choose a template."]


def test_every_problem_is_named_at_once(town: dict[str, Any], koho: Any) -> None:
    japanese_only = make_template("ja-only", languages=["ja"])
    errors = _refused(
        lambda: messages.create_message(
            template=japanese_only,
            values={"event": "x"},
            filters={},
            channels=["email", "fax"],
            scheduled_at=timezone.now() - dt.timedelta(days=1),
            actor=koho,
        )
    )
    assert set(errors) == {"values", "scheduled_at", "channels"}
    errors = _refused(
        lambda: messages.create_message(
            template=japanese_only, values=VALUES, filters={}, actor=koho
        )
    )
    # The Vietnamese reader has no version: refused, naming the language and how many.
    assert errors["template"] == [
        "The template has no text in a language some recipients read: Tiếng Việt (1 resident). "
        "Add those versions to the template first."
    ]


def test_alert_input_is_checked(
    town: dict[str, Any], alert_template: Any, news_template: Any, bosai: Any
) -> None:
    errors = _refused(
        lambda: messages.send_alert(
            template=news_template, level="level4", districts=[], values={}, actor=bosai
        )
    )
    assert errors["template"] == ["Choose an emergency alert template."]
    errors = _refused(
        lambda: messages.send_alert(
            template=alert_template,
            level="level9",
            districts=["ueno-tobu", "atlantis"],
            values={"area": "x"},
            actor=bosai,
        )
    )
    assert set(errors) == {"values", "level", "districts"}
    assert "atlantis" in errors["districts"][0]
    errors = _refused(
        lambda: messages.create_message(
            template=alert_template, values={"area": "x", "shelter": "y"}, filters={}, actor=bosai
        )
    )
    assert "alert form" in errors["template"][0]


def test_quiet_hours_hold_news_until_they_end(
    geography: dict[str, Any], news_template: Any, koho: Any
) -> None:
    always_quiet = make_notice_resident(
        "sleepy@example.jp", quiet=(dt.time(0, 0), dt.time(23, 59, 59))
    )
    awake = make_notice_resident("awake@example.jp")
    message = messages.create_message(template=news_template, values=VALUES, filters={}, actor=koho)
    now = timezone.now()
    held = Delivery.objects.get(message=message, user=always_quiet)
    assert held.next_attempt_at > now
    assert timezone.localtime(held.next_attempt_at).time() == dt.time(23, 59, 59)
    assert Delivery.objects.get(message=message, user=awake).next_attempt_at <= now


def test_scheduled_message_is_dispatched_when_due_and_can_be_cancelled(
    town: dict[str, Any], news_template: Any, koho: Any
) -> None:
    later = timezone.now() + dt.timedelta(hours=2)
    message = messages.create_message(
        template=news_template, values=VALUES, filters={}, scheduled_at=later, actor=koho
    )
    assert message.state == Message.State.SCHEDULED
    assert not Delivery.objects.filter(message=message).exists()
    assert messages.dispatch_due() == 0
    assert messages.dispatch_due(later + dt.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.state == Message.State.SENDING
    assert Delivery.objects.filter(message=message).count() == 3
    assert messages.queue(message) == 0  # never twice

    other = messages.create_message(
        template=news_template, values=VALUES, filters={}, scheduled_at=later, actor=koho
    )
    messages.cancel(other, actor=koho)
    assert other.state == Message.State.CANCELLED
    assert messages.dispatch_due(later + dt.timedelta(seconds=1)) == 0
    assert not Delivery.objects.filter(message=other).exists()


def test_cancel_while_sending_skips_what_is_still_queued(
    town: dict[str, Any], news_template: Any, koho: Any
) -> None:
    message = messages.create_message(template=news_template, values=VALUES, filters={}, actor=koho)
    messages.cancel(message, actor=koho)
    assert set(Delivery.objects.filter(message=message).values_list("state", flat=True)) == {
        "skipped"
    }
    assert delivery.send_pending() == 0
    board = messages.board(message)
    assert board == {
        "channels": {"email": {"skipped": 1}, "inbox": {"skipped": 1}, "line": {"skipped": 1}},
        "total": 3,
        "done": True,
    }
    with pytest.raises(messages.MessageError):
        messages.cancel(message, actor=koho)
    assert AuditEvent.objects.filter(action="notices.message_cancelled").count() == 1


def test_preview_fills_what_it_has(news_template: Any) -> None:
    shown = messages.preview(news_template, {"event": "Festival"}, "en")
    assert shown == {
        "subject": "[en] Festival on ((date))",
        "body": "[en] Dear ((name)), Festival is on ((date)).",
    }
    assert messages.preview(news_template, {}, "xx")["subject"].startswith("[ja]")
