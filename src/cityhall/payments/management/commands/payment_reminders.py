"""``cityhall payment_reminders``: queue (and send) reminders for overdue instalments; daily."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cityhall.payments.services import reminders


class Command(BaseCommand):
    help = "Queue reminders for overdue instalments and hand them to the registered sender."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        queued = reminders.queue_overdue(options["today"])
        sender = "a sender" if reminders.reminder_sender() else "no sender yet (rows wait)"
        self.stdout.write(f"{queued} reminders queued; {sender}")
