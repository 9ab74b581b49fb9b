"""``cityhall seed_bookings``: the places and booking services (来庁予約・相談) of Iga."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cityhall.inquiries.services import bookings


class Command(BaseCommand):
    help = "Load the booking places and services from inquiries/data/bookings.json (upsert)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = bookings.seed_catalogue()
        self.stdout.write(
            f"booking places: {counts['places']} new; services: {counts['services']} new"
        )
