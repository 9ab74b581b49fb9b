"""``cityhall seed_demo_bookings``: demo slots for the next working days and a few bookings
of the demo residents. Idempotent: a second run adds nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cityhall.inquiries.services import bookings


class Command(BaseCommand):
    help = "Create booking slots for the next working days and demo bookings (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=14, help="Working days ahead (14).")

    def handle(self, *args: Any, **options: Any) -> None:
        bookings.seed_catalogue()
        counts = bookings.seed_demo(days=options["days"])
        self.stdout.write(f"slots: {counts['slots']} new; bookings: {counts['bookings']} new")
