"""``cityhall receive-inquiry < message.eml``: file one e-mail as an inquiry.

For an MTA pipe (Postfix ``pipe(8)`` / an alias ``"|cityhall receive-inquiry"``). Exit
status 0 when the message was filed or deliberately ignored (auto-reply, duplicate);
75 (EX_TEMPFAIL) when filing failed, so the MTA keeps the message and tries again.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from cityhall.inquiries.services import mail_in

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Read one e-mail (RFC 5322) from standard input and file it as an inquiry."
    stealth_options = ("stdin",)

    def handle(self, *args: Any, **options: Any) -> None:
        stream = options.get("stdin") or sys.stdin.buffer
        raw = stream.read(mail_in.MAX_BYTES + 1)
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        try:
            ticket = mail_in.receive(raw)
        except Exception as error:  # the MTA retries later; nothing is lost
            self.stderr.write(f"could not file the message: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(ticket.reference if ticket else "ignored")
