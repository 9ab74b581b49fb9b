"""``cityhall send_notices``: a sending worker for messages and alerts.

    cityhall send_notices                  # loop: recover, dispatch scheduled, send
    cityhall send_notices --once           # one pass until nothing is due, then exit
    cityhall send_notices --channel email  # only this channel (run several side by side)

Each pass puts back what a stopped worker left (``recover_stale``), queues scheduled
messages whose time has come (``dispatch_due``) and sends due deliveries in batches
(``send_pending``). SIGTERM / Ctrl-C stop it between two batches.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from cityhall.notices.models import CHANNELS
from cityhall.notices.services import delivery, messages


class Command(BaseCommand):
    help = "Send queued notices (e-mail, LINE, web push, inbox): recover, dispatch, send."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--channel", choices=CHANNELS, help="Only this channel.")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds to wait when idle (1)."
        )
        parser.add_argument("--batch", type=int, default=None, help="Deliveries per batch.")
        parser.add_argument(
            "--limit", type=int, default=None, help="With --once: stop after this many."
        )
        parser.add_argument(
            "--include-placeholder-addresses",
            action="store_true",
            help="Benchmarks only: send e-mail to synthetic *.invalid addresses too.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["include_placeholder_addresses"]:
            from cityhall.notices.channels import email

            email.INCLUDE_PLACEHOLDER_ADDRESSES = True
        worker = f"{socket.gethostname()}:{os.getpid()}"
        channel = options["channel"]
        batch = options["batch"]
        stop = {"now": False}

        def request_stop(signum: int, frame: Any) -> None:
            stop["now"] = True

        if not options["once"]:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        total = 0
        while True:
            recovered = delivery.recover_stale()
            if any(recovered.values()):
                self.stdout.write(f"recovered: {recovered}")
            dispatched = messages.dispatch_due()
            if options["once"]:
                total += delivery.send_pending(
                    channel=channel, batch=batch, worker=worker, limit=options["limit"]
                )
                break
            # One batch at a time, so that a stop request is honoured between batches.
            handled = delivery.send_pending(
                channel=channel, batch=batch, worker=worker, limit=batch or settings.NOTICES_BATCH
            )
            total += handled
            if stop["now"]:
                break
            if not handled and not dispatched:
                time.sleep(max(options["interval"], 0.05))
                if stop["now"]:
                    break
        self.stdout.write(f"handled {total} deliveries")
