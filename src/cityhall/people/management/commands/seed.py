"""``cityhall seed``: load Iga's geography, departments, facilities and demo accounts.

Idempotent: a second run changes nothing. ``--residents N`` replaces the synthetic
population with N fictional persons (children included) drawn from ``--seed``.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.people.seed import DEFAULT_SEED, SeedRefused, run_seed


class Command(BaseCommand):
    help = (
        "Load Iga's former municipalities, 住民自治協議会, facilities, departments and the demo "
        "accounts (upsert by code: running it again changes nothing). With --residents N, "
        "replace the synthetic population by N fictional residents with Iga's shape."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--residents",
            type=int,
            default=None,
            metavar="N",
            help="Replace the synthetic population with N persons (children included; adults "
            "get accounts). 83335 is Iga on 2025-12-31. 0 removes it. Default: leave it alone.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed of the synthetic population (default {DEFAULT_SEED}): the same "
            "N and seed give the same people.",
        )
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="Do not create the demo staff and demo residents.",
        )
        parser.add_argument(
            "--reference-year",
            type=int,
            default=None,
            help="Year the synthetic ages refer to (default: this year).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        residents = options["residents"]
        if residents is not None and residents < 0:
            raise CommandError("--residents cannot be negative")
        started = time.perf_counter()
        try:
            report = run_seed(
                residents=residents,
                seed=options["seed"],
                demo=not options["no_demo"],
                reference_year=options["reference_year"],
            )
        except SeedRefused as exc:
            raise CommandError(f"{exc}. Use --no-demo and leave out --residents.") from exc
        for line in report.lines():
            self.stdout.write(line)
        # The procedure catalogue, the kinds of public money, the message templates, the FAQ,
        # the inquiry routing rules and the booking services sit
        # in layers above people: run them by command name.
        call_command("seed_procedures", stdout=self.stdout)
        call_command("seed_payment_kinds", stdout=self.stdout)
        call_command("seed_notice_templates", stdout=self.stdout)
        call_command("seed_faq", stdout=self.stdout)
        call_command("seed_inquiries", stdout=self.stdout)
        call_command("seed_bookings", stdout=self.stdout)
        elapsed = time.perf_counter() - started
        verdict = "seeded" if report.changed else "already up to date, nothing changed"
        self.stdout.write(self.style.SUCCESS(f"{verdict} ({elapsed:.1f} s)"))
