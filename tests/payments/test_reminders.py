"""The overdue-reminder hook."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from cityhall.payments.models import Installment, Reminder
from cityhall.payments.services import ledger, reminders
from tests.payments.test_reconcile_support import slip

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 8, 1)


@pytest.fixture(autouse=True)
def _no_sender() -> Iterator[None]:
    reminders.register_reminder_sender(None)
    yield
    reminders.register_reminder_sender(None)


def test_waits_without_a_sender_and_skips_paid_ones() -> None:
    overdue, paid, not_due = slip(), slip(), slip(first_due=dt.date(2026, 9, 30))
    assert reminders.queue_overdue(TODAY) == 2
    assert set(Reminder.objects.values_list("installment_id", "state")) == {
        (overdue.installment_id, "waiting"),
        (paid.installment_id, "waiting"),
    }
    assert reminders.queue_overdue(TODAY) == 0  # one per installment
    ledger.record_payment(
        notice=paid, amount_yen=paid.amount_yen, channel="cvs", state="provisional", paid_on=TODAY
    )
    reminders.queue_overdue(TODAY)
    assert Reminder.objects.get(installment_id=paid.installment_id).state == "skipped"
    assert not Reminder.objects.filter(installment_id=not_due.installment_id).exists()


def test_a_registered_sender_sends() -> None:
    notice = slip()
    seen: list[int] = []

    def sender(reminder: Reminder) -> str | None:
        seen.append(reminder.installment_id)
        return "post"

    reminders.register_reminder_sender(sender)
    call_command("payment_reminders", "--today", TODAY.isoformat())
    reminder = Reminder.objects.get()
    assert seen == [notice.installment_id]
    assert reminder.state == "sent" and reminder.channel == "post" and reminder.sent_at
    assert Installment.objects.get(pk=notice.installment_id).reminded_at is not None


def test_a_sender_that_cannot_send_leaves_it_waiting(settings: Any) -> None:
    slip()
    reminders.register_reminder_sender(lambda reminder: None)
    reminders.queue_overdue(TODAY)
    assert Reminder.objects.get().state == "waiting"
