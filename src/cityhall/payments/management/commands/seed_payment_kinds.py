"""``cityhall seed_payment_kinds``: load the kinds of public money (公金の種類).

Checks the whole file first (nothing is written when anything is wrong), then upserts
the kinds by code, so running it again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.core import audit
from cityhall.payments.services.kinds import KindDataError, seed_payment_kinds


class Command(BaseCommand):
    help = (
        "Load the kinds of public money (公金の種類: 税目・料金番号, department, account, "
        "instalment schedule) from payments/data/kinds.json (or --file). Upserts by code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=None, help="Kinds file (JSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = seed_payment_kinds(options["file"])
        except KindDataError as exc:
            raise CommandError("\n".join(exc.problems)) from exc
        if counts.changed:
            audit.record("payments.kinds_seeded", details=counts.as_dict())
        self.stdout.write(f"{'payment kinds':<22} {counts}")
        verdict = "loaded" if counts.changed else "already up to date, nothing changed"
        self.stdout.write(self.style.SUCCESS(verdict))
