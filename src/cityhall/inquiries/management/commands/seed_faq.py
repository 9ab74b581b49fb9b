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
        if reports and not changed:
            self.stdout.write(f"faq: {len(reports)} files already imported, nothing changed")
        elif changed:
            self.stdout.write(
                f"faq: {len(changed)} of {len(reports)} files imported — "
                f"{sum(r.rows for r in changed)} rows: {sum(r.created for r in changed)} created, "
                f"{sum(r.updated for r in changed)} updated, "
                f"{sum(r.unchanged for r in changed)} unchanged"
            )
