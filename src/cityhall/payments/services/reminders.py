"""Overdue reminders (督促・催告): the named hook between payments and a sending channel.

``queue_overdue(today)`` — run daily (``cityhall payment_reminders`` or the management
command of the same name) — does three things, set-based:

1. a ``WAITING`` :class:`Reminder` for every installment that is ``OPEN`` (not
   provisional, paid or cancelled), of a charge that is not cancelled, whose due date
   is before ``today`` and that has no reminder yet (one per installment: a waiting one
   or one already sent);
2. waiting reminders of installments that are no longer open become ``SKIPPED``
   (paid meanwhile — a 速報 counts);
3. when a sender is registered (:func:`register_reminder_sender`, done by the notices
   module when it is installed), each waiting reminder is handed to it; the sender
   returns the channel it used (``"post"``, ``"email"``, ``"line"`` …) or ``None`` when it
   could not send, and the reminder becomes ``SENT`` with that channel (the
   installment's ``reminded_at`` is set).

Without a sender the rows stay ``WAITING`` and the clerk sees them on the reminders page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from cityhall.payments.models import Installment, Reminder

Sender = Callable[[Reminder], str | None]
_sender: Sender | None = None


def register_reminder_sender(fn: Sender | None) -> None:
    """Install the function that sends one reminder (``None`` removes it)."""
    global _sender
    _sender = fn


def reminder_sender() -> Sender | None:
    return _sender


def queue_overdue(today: dt.date | None = None) -> int:
    """Queue (and send, when a sender is registered) reminders; returns how many were queued."""
    today = today or timezone.localdate()
    with transaction.atomic():
        Reminder.objects.filter(state=Reminder.State.WAITING).exclude(
            installment__status=Installment.Status.OPEN
        ).update(state=Reminder.State.SKIPPED)
        due = (
            Installment.objects.filter(status=Installment.Status.OPEN, due_date__lt=today)
            .exclude(charge__status="cancelled")
            .exclude(reminders__state__in=[Reminder.State.WAITING, Reminder.State.SENT])
            .values_list("pk", flat=True)
        )
        now = timezone.now()
        created = Reminder.objects.bulk_create(
            [Reminder(installment_id=pk, created_at=now) for pk in due.iterator()],
            batch_size=2000,
        )
    if _sender is not None:
        send_waiting()
    return len(created)


def send_waiting(limit: int | None = None) -> int:
    """Hand waiting reminders to the sender; returns how many were sent."""
    sender = _sender
    if sender is None:
        return 0
    sent = 0
    waiting: Any = Reminder.objects.filter(state=Reminder.State.WAITING).select_related(
        "installment__charge__kind"
    )
    if limit:
        waiting = waiting[:limit]
    for reminder in waiting:
        if reminder.installment.status != Installment.Status.OPEN:
            Reminder.objects.filter(pk=reminder.pk).update(state=Reminder.State.SKIPPED)
            continue
        channel = sender(reminder)
        if not channel:
            continue
        now = timezone.now()
        with transaction.atomic():
            Reminder.objects.filter(pk=reminder.pk, state=Reminder.State.WAITING).update(
                state=Reminder.State.SENT, sent_at=now, channel=str(channel)[:20]
            )
            Installment.objects.filter(pk=reminder.installment_id).update(reminded_at=now)
        sent += 1
    return sent
