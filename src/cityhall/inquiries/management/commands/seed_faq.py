"""``cityhall seed-faq``: import every FAQ file of ``inquiries/data/faq/*.csv`` (idempotent).

Files are imported in name order, each through the same checks as ``import-faq``; a file
imported before is a no-op, a changed file applies only its changes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cityhall.inquiries.services import faq


class Command(BaseCommand):
    help = "Import the FAQ files shipped in inquiries/data/faq/*.csv (same file again: no-op)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            reports = faq.seed_faq()
        except faq.FaqImportError as exc:
            raise CommandError("\n".join(str(e) for e in exc.errors)) from exc
        if not reports:
            self.stdout.write("faq: no files")
        changed = [r for r in reports if r.already_imported_at is None]
        for report in changed:
            self.stdout.write(report.summary())
        if reports and not changed:
            self.stdout.write(f"faq: {len(reports)} files already imported, nothing changed")
