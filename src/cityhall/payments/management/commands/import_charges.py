"""``cityhall import_charges FILE``: import a charges file (調定データ) from a core system.

The layout is in docs/payments/charges.md. The file is checked whole: with any problem
nothing is imported and every problem is printed (exit status 1). Importing the same
file again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.payments.services.charge_import import MAX_BYTES, run_import


class Command(BaseCommand):
    help = "Import a charges CSV (調定データ) from a core system; see docs/payments/charges.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8 or Shift_JIS/CP932).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path}: larger than {MAX_BYTES // 2**20} MB")
        outcome = run_import(path.read_bytes(), filename=path.name)
        record = outcome.file
        if outcome.duplicate:
            self.stdout.write(
                self.style.WARNING(
                    f"{path.name}: imported before (file {record.pk}, "
                    f"{record.created_at:%Y-%m-%d %H:%M}); nothing changed"
                )
            )
            return
        if not outcome.applied:
            for problem in record.problems:
                line = f"line {problem['line']}: " if problem.get("line") else ""
                self.stderr.write(f"{line}{problem['field']}: {problem['detail']}")
            total = record.summary.get("problems", len(record.problems))
            raise CommandError(f"{path.name}: {total} problems, nothing imported")
        summary = record.summary
        self.stdout.write(
            f"{path.name}: {record.rows} rows, {summary.get('charges', 0)} new charges, "
            f"{summary.get('installments', 0)} instalments, {summary.get('notices', 0)} slips, "
            f"{summary.get('unchanged', 0)} unchanged, {summary.get('linked', 0)} linked"
        )
        self.stdout.write(self.style.SUCCESS("imported"))
