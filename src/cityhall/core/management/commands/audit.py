"""``cityhall audit verify``: prove the audit log's hash chain is intact."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.core import audit


class Command(BaseCommand):
    help = "Audit log tools. `verify` recomputes the HMAC chain and names every broken row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit.verify()
        for item in result.breaks:
            self.stdout.write(
                self.style.ERROR(f"BROKEN at #{item.seq} (row id {item.event_id}): {item.reason}")
            )
        if not result.head_ok:
            self.stdout.write(
                self.style.ERROR("BROKEN at the end: rows after the last one shown were removed")
            )
        if not result.ok:
            raise CommandError(
                f"audit log NOT intact: {len(result.breaks)} break(s) in {result.checked} events"
            )
        self.stdout.write(
            self.style.SUCCESS(f"audit log intact: {result.checked} events, chain verified")
        )
