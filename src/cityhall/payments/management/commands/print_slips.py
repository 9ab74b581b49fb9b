"""``cityhall print_slips``: print a batch of slips from the command line (no worker needed).

    cityhall print_slips --kind kojin-juminzei --fiscal-year 2026 --period 1 --only-unprinted
    cityhall print_slips --resume 12     # continue a stopped run at its first missing part
    cityhall print_slips --count --kind kojin-juminzei --fiscal-year 2026

The run is created exactly as from the staff page (audited, actor: the system) but is
printed in this process instead of being queued.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.payments.models import PrintRun
from cityhall.payments.services import printing


class Command(BaseCommand):
    help = "Print payment slips in a batch (PDF parts under MEDIA_ROOT/print-runs/<run>/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", help="Code of the kind of public money.")
        parser.add_argument("--fiscal-year", type=int, help="賦課年度, e.g. 2026.")
        parser.add_argument("--period", type=int, help="期別; every instalment when left out.")
        parser.add_argument("--only-unprinted", action="store_true", help="Skip printed slips.")
        parser.add_argument("--title", default="", help="Name of the run.")
        parser.add_argument("--count", action="store_true", help="Only count the slips.")
        parser.add_argument("--resume", type=int, metavar="RUN", help="Resume run RUN.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"]:
            if not PrintRun.objects.filter(pk=options["resume"]).exists():
                raise CommandError(f"no print run {options['resume']}")
            self._finish(printing.run(options["resume"]))
            return
        if not options["kind"] or not options["fiscal_year"]:
            raise CommandError("--kind and --fiscal-year are required (or --resume RUN)")
        params = {
            "kind": options["kind"],
            "fiscal_year": options["fiscal_year"],
            "period": options["period"],
            "only_unprinted": options["only_unprinted"],
        }
        if options["count"]:
            self.stdout.write(f"{printing.count_notices(params)} slips would be printed")
            return
        title = options["title"] or f"{options['kind']} {options['fiscal_year']}"
        try:
            run = printing.create_run(title=title, params=params, actor=None, enqueue=False)
        except printing.PrintError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"run {run.pk}: {run.total} slips in parts of {run.part_size}")
        self._finish(printing.run(run.pk))

    def _finish(self, run: PrintRun) -> None:
        if run.status != PrintRun.Status.DONE:
            raise CommandError(
                f"run {run.pk} stopped at {run.printed}/{run.total}: {run.error} "
                f"(resume with --resume {run.pk})"
            )
        for part in run.parts.order_by("number"):
            self.stdout.write(f"{part.path}  {part.pages} pages  sha256 {part.sha256}")
        self.stdout.write(self.style.SUCCESS(f"run {run.pk} done: {run.printed} slips"))
