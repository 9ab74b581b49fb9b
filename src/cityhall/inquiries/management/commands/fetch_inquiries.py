"""``cityhall fetch-inquiries``: read the unseen mail of the inquiries mailbox (IMAP).

``CITYHALL_INQUIRIES_IMAP_URL`` = ``imap://user:password@host:143/INBOX`` or
``imaps://…:993/INBOX``. Each UNSEEN message is read with ``BODY.PEEK[]`` (which, unlike
``RFC822``, does not mark it read), filed (:func:`mail_in.receive`) and only then flagged
``\\Seen``; a message that fails stays unseen and is tried on the next run.
Filing is idempotent by Message-ID, so a crash between filing and flagging adds nothing
the next time. Run it from cron or a systemd timer every minute or two.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityhall.inquiries.services import mail_in

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailbox:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str


def parse_url(url: str) -> Mailbox:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise CommandError("CITYHALL_INQUIRIES_IMAP_URL must be imap://… or imaps://…")
    secure = parts.scheme == "imaps"
    return Mailbox(
        secure=secure,
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def fetch(url: str, limit: int = 200) -> dict[str, int]:
    box = parse_url(url)
    counts = {"filed": 0, "ignored": 0, "failed": 0}
    client: imaplib.IMAP4
    if box.secure:
        client = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context())
    else:
        client = imaplib.IMAP4(box.host, box.port)
    try:
        client.login(box.user, box.password)
        status, _ = client.select(box.folder)
        if status != "OK":
            raise CommandError(f"cannot open the mailbox {box.folder!r}")
        _status, data = client.search(None, "UNSEEN")
        numbers = (data[0] or b"").split()[:limit]
        for number in numbers:
            _status, parts = client.fetch(number.decode(), "(BODY.PEEK[])")
            raw = next(
                (p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), b""
            )
            try:
                ticket = mail_in.receive(raw)
            except Exception:
                log.exception("inquiry e-mail %s could not be filed; left unseen", number)
                counts["failed"] += 1
                continue
            # Committed (receive runs its own transaction): now it may be marked as read.
            client.store(number.decode(), "+FLAGS", "(\\Seen)")
            counts["filed" if ticket else "ignored"] += 1
        client.close()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return counts


class Command(BaseCommand):
    help = "File the unseen messages of the inquiries mailbox (CITYHALL_INQUIRIES_IMAP_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="Messages per run (200).")

    def handle(self, *args: Any, **options: Any) -> None:
        url = settings.INQUIRIES_IMAP_URL
        if not url:
            raise CommandError("CITYHALL_INQUIRIES_IMAP_URL is not set")
        counts = fetch(url, options["limit"])
        self.stdout.write(
            f"filed: {counts['filed']}; ignored: {counts['ignored']}; failed: {counts['failed']}"
        )
