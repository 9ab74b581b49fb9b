"""``cityhall worker``: run background tasks from the database queue."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run a background worker (e-mails and other queued tasks). Start as many as needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--queue-name", default="*", help="Queues to take tasks from.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_args = [
            "--interval",
            str(options["interval"]),
            "--queue-name",
            options["queue_name"],
        ]
        if options["batch"]:
            worker_args.append("--batch")
        call_command("db_worker", *worker_args, no_startup_delay=True)
