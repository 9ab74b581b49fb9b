"""``cityhall import-faq PATH.csv``: import FAQ entries (よくある質問) from a CSV file.

The whole file is checked first; when anything is wrong every problem is printed with its
row number on stderr, nothing is applied and the command exits with status 1. The same
file imported again changes nothing. The format is described in docs/inquiries/faq.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cityhall.inquiries.services import faq


class Command(BaseCommand):
    help = (
        "Import FAQ entries from a CSV file (columns id, question, answer; optional category, "
        "language, url, department, keywords, procedures, review_on). UTF-8 or Shift_JIS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"{path}: {exc.strerror or exc}")
            sys.exit(1)
        try:
            report = faq.import_csv(data, path.name)
        except faq.FaqImportError as exc:
            self.stderr.write(f"{path.name}: refused, nothing was imported ({len(exc.errors)}):")
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            sys.exit(1)
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
