"""``cityhall purge_notices``: delete delivery records and inbox items past retention.

Delivery rows go ``CITYHALL_NOTICES_RETENTION_DAYS`` after their message finished (the
counts stay on the message); inbox items after ``CITYHALL_NOTICES_INBOX_RETENTION_DAYS``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cityhall.notices.services import delivery


class Command(BaseCommand):
    help = "Delete delivery records and inbox items older than their retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        result = delivery.purge()
        self.stdout.write(
            f"purged {result['deliveries']} deliveries of {result['messages']} messages, "
            f"{result['inbox_items']} inbox items"
        )
