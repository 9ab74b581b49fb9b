"""``cityhall reconcile --kind agent FILE``: import a collection file from a scheduled job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.payments.models import ImportedFile
from cityhall.payments.services import reconcile


class Command(BaseCommand):
    help = "Import a collection file (agent CSV, 全銀 results or IFS) and print its summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--kind", required=True, choices=[k.value for k in reconcile.KINDS], help="file kind"
        )
        parser.add_argument(
            "--actor", default="", help="e-mail of the staff member recorded as the uploader"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from cityhall.people.models import User

        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email=options["actor"], is_staff=True).first()
            if actor is None:
                raise CommandError(f"{options['actor']}: no such staff member")
        try:
            imported = reconcile.import_collection_file(
                options["kind"], path.read_bytes(), filename=path.name, actor=actor
            )
        except reconcile.ReconcileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{imported.filename}: {imported.get_status_display()}, {imported.rows} rows "
            f"(file #{imported.pk}, sha256 {imported.sha256[:12]}…)"
        )
        for outcome, count in sorted(imported.summary.items()):
            self.stdout.write(f"  {outcome}: {count}")
        for problem in imported.problems[:20]:
            self.stdout.write(f"  line {problem['line']}: {problem['detail']}")
        if imported.status == ImportedFile.Status.REJECTED:
            raise CommandError("the file was rejected; nothing was changed")
