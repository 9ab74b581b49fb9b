"""Overdue reminders: the payments module's daily run hands each one to the notices module,
which tells residents who agreed (inbox, and e-mail through a real SMTP server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from cityhall.notices.models import DeliveryPreferences, InboxItem
from cityhall.notices.services import reminders as notice_reminders
from cityhall.notices.services.common import read_unsubscribe_token
from cityhall.payments.models import Reminder
from cityhall.payments.services import reminders
from tests.notices.prefs_support import resident
from tests.payments.factories import make_charge, notice_of

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 8, 1)  # the factories' first due date is 2026-06-28


@pytest.fixture(autouse=True)
def _notices_sender() -> Iterator[None]:
    """The sender the notices app installs at start-up (other tests may have removed it)."""
    before = reminders.reminder_sender()
    reminders.register_reminder_sender(notice_reminders.send_reminder)
    yield
    reminders.register_reminder_sender(before)


def _run(capture: Any) -> None:
    with capture(execute=True):
        reminders.queue_overdue(TODAY)


def test_an_e_mail_and_an_inbox_item_for_a_resident_who_agreed(
    smtp_server: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.SITE_URL = "https://city.example"
    hanako = resident(preferred_language="en")
    charge = make_charge(resident=hanako, amounts=(12_345,))
    number = notice_of(charge).notice_number
    _run(django_capture_on_commit_callbacks)

    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.channel) == ("sent", "email")
    item = InboxItem.objects.get(user=hanako)
    assert item.kind == "payment" and item.source_key == f"reminder:{reminder.pk}"
    assert "12,345" in item.title and "2026-06-28" in item.title
    assert item.url == f"/payments/notices/{number}/"

    assert len(smtp_server.messages) == 1
    mail = smtp_server.last_to("hanako@example.jp")
    assert "overdue" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "¥12,345" in part
        assert "2026-06-28" in part
        assert f"https://city.example/payments/notices/{number}/" in part
        assert number in part
    assert "伊賀 花子" in text  # the name, in UTF-8
    assert '<html lang="en">' in html
    unsubscribe = next(
        line.split(": ", 1)[1] for line in text.splitlines() if "/unsubscribe/" in line
    )
    token = unsubscribe.rstrip("/").rsplit("/", 1)[1]
    request = read_unsubscribe_token(token)
    assert request is not None
    assert (request.user_id, request.topic, request.channel) == (hanako.pk, "personal", "email")

    # the next day's run sends nothing again
    _run(django_capture_on_commit_callbacks)
    assert len(smtp_server.messages) == 1
    assert InboxItem.objects.filter(user=hanako).count() == 1


def test_the_e_mail_is_in_the_residents_language(
    smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hanako = resident()  # Japanese
    make_charge(resident=hanako)
    _run(django_capture_on_commit_callbacks)
    mail = smtp_server.last_to("hanako@example.jp")
    assert "個人住民税" in mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "who",
    ["inbox only", "placeholder address"],
)
def test_inbox_only_when_e_mail_is_not_chosen_or_not_possible(
    who: str, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    if who == "inbox only":
        user = resident(channels=("inbox",))
    else:
        user = resident("counter-7@residents.invalid", channels=("email", "inbox"))
    make_charge(resident=user)
    _run(django_capture_on_commit_callbacks)
    assert Reminder.objects.get().channel == "inbox"
    assert InboxItem.objects.filter(user=user).count() == 1
    assert smtp_server.messages == []


@pytest.mark.parametrize("who", ["no consent", "personal muted", "no account"])
def test_without_consent_the_reminder_stays_with_the_clerk(
    who: str, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner = None
    if who == "no consent":
        owner = resident(consents=())
    elif who == "personal muted":
        owner = resident()
        DeliveryPreferences.objects.create(user=owner, muted_topics=["personal"])
    make_charge(resident=owner)
    _run(django_capture_on_commit_callbacks)
    reminder = Reminder.objects.get()
    assert (reminder.state, reminder.channel, reminder.sent_at) == ("waiting", "", None)
    assert not InboxItem.objects.exists()
    assert smtp_server.messages == []
