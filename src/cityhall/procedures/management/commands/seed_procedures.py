"""``cityhall seed-procedures``: load the procedure catalogue and its forms.

Checks the whole file first (nothing is written when anything is wrong), then upserts
the procedures by slug and publishes a new form version only where a form changed,
so running it again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.core import audit
from cityhall.procedures.seed import ProcedureDataError, load_procedures


class Command(BaseCommand):
    help = (
        "Load the procedure catalogue (手続き) and its forms from procedures/data/procedures.json "
        "(or --file), with the reusable fields of field_library.json (or --library). Upserts "
        "by slug; a form version is published only when a form changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=None, help="Procedures file (JSON).")
        parser.add_argument("--library", type=Path, default=None, help="Field library (JSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = load_procedures(options["file"], library=options["library"])
        except ProcedureDataError as exc:
            raise CommandError(str(exc)) from exc
        if counts.changed:
            audit.record("procedures.seed", details=counts.as_dict())
        self.stdout.write(f"{'procedures':<22} {counts}")
        verdict = "loaded" if counts.changed else "already up to date, nothing changed"
        self.stdout.write(self.style.SUCCESS(verdict))
