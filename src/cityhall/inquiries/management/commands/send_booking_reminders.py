"""``cityhall send_booking_reminders``: remind residents of their bookings once,
``CITYHALL_BOOKING_REMINDER_HOURS`` before the start. Run it every few minutes (cron,
systemd timer) or with ``--loop``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cityhall.inquiries.services import bookings


class Command(BaseCommand):
    help = "Send the due booking reminders (each booking once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument(
            "--interval", type=float, default=300.0, help="Seconds between runs with --loop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            sent = bookings.send_reminders()
            self.stdout.write(f"booking reminders sent: {sent}")
            if not options["loop"]:
                break
            time.sleep(max(options["interval"], 1.0))
