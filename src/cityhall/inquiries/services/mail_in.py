"""E-mail in (メールでの問い合わせ): one raw message becomes a ticket or a message of one.

``receive(raw)`` is called by ``cityhall receive-inquiry`` (an MTA pipe) and by
``cityhall fetch-inquiries`` (IMAP). It

- parses with :mod:`email` (``policy.default``): MIME-word subjects in ISO-2022-JP or
  UTF-8 are decoded, the text/plain part is preferred (else the HTML part, stripped);
- drops quoted replies and signatures, roughly (``>`` lines, "On … wrote:", "-- ");
- ignores auto-replies and bounces (``Auto-Submitted``, ``Precedence: bulk``, list mail,
  an empty ``Return-Path``, mailer-daemon; RFC 3834 §2) and messages over :data:`MAX_BYTES`:
  they are never acknowledged;
- reads each Message-ID once: the same mail again adds nothing;
- appends a reply to our acknowledgement (subject with ``[Q-YYYY-NNNNNN]``, or
  In-Reply-To/References naming a message of the ticket or one of our own Message-IDs)
  to that ticket — only when the
  sender is the ticket's own address; anything else opens a new ticket.
"""

from __future__ import annotations

import hashlib
import logging
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

from django.db import IntegrityError

from cityhall.inquiries.models import Ticket, TicketChannel, TicketMessage
from cityhall.inquiries.services import tickets

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
SUBJECT_REFERENCE = re.compile(r"\[(Q-\d{4}-\d{6})\]")
REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|返信|転送)\s*[:：]\s*)+", re.IGNORECASE)
AUTO_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply")
QUOTE_HEADERS = (
    re.compile(r"^On .+wrote:\s*$"),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^-{2,}\s*元のメッセージ\s*-{2,}"),
    re.compile(r"^\d{4}[年/]\d{1,2}[月/]\d{1,2}日?.*(書きました|wrote)[:：]?\s*$"),
    re.compile(r"^Le .+a écrit\s*:\s*$"),
    re.compile(r"^Em .+escreveu:\s*$"),
    re.compile(r"^From: .+$"),
)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


class _Text(HTMLParser):
    BLOCKS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quotes(text: str) -> str:
    """The new part of a reply: no quoted lines, no quoted header, no signature."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if line.rstrip() == "--" or line == "-- ":
            break  # the signature delimiter
        if any(pattern.match(stripped) for pattern in QUOTE_HEADERS):
            break
        if stripped.startswith(">") or stripped.startswith("＞"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return strip_quotes(content)


def is_auto_reply(message: EmailMessage, address: str) -> bool:
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "junk", "auto_reply", "list"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return True
    if str(message.get("Return-Path", "x")).strip() == "<>":
        return True
    if message.get_content_type() == "multipart/report":
        return True
    local = address.split("@", 1)[0].lower()
    return not address or any(local.startswith(s) for s in AUTO_SENDERS)


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _sender(message: EmailMessage) -> tuple[str, str]:
    pairs = getaddresses([str(message.get("Reply-To") or message.get("From") or "")])
    if not pairs:
        return "", ""
    name, address = pairs[0]
    return name.strip()[:120], address.strip().lower()[:254]


def _thread_of(message: EmailMessage, subject: str, address: str) -> Ticket | None:
    """The ticket this mail answers, when the sender is that ticket's resident."""
    candidate: Ticket | None = None
    match = SUBJECT_REFERENCE.search(subject)
    if match:
        candidate = Ticket.objects.filter(reference=match.group(1)).first()
    if candidate is None:
        ids = _message_ids(str(message.get("In-Reply-To", ""))) + _message_ids(
            str(message.get("References", ""))
        )
        for reference in filter(None, map(tickets.reference_of_message_id, ids)):
            candidate = Ticket.objects.filter(reference=reference).first()
            if candidate is not None:
                break
        if ids and candidate is None:
            found = (
                TicketMessage.objects.filter(email_message_id__in=ids)
                .select_related("ticket")
                .first()
            )
            candidate = found.ticket if found else None
    if candidate is None:
        return None
    owners = {candidate.email.lower()}
    if candidate.resident is not None:
        owners.add(str(candidate.resident.email).lower())
    return candidate if address in owners else None


def _existing(message_id: str) -> Ticket | None:
    found = TicketMessage.objects.filter(email_message_id=message_id).select_related("ticket")
    first = found.first()
    return first.ticket if first else None


def receive(raw: bytes) -> Ticket | None:
    """File one e-mail; the ticket it opened or joined (also when it was read before), or
    ``None`` when it was ignored (auto-reply, too large, empty, no sender)."""
    if len(raw) > MAX_BYTES:
        log.warning("inquiry e-mail of %d bytes ignored (limit %d)", len(raw), MAX_BYTES)
        return None
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    name, address = _sender(message)
    if is_auto_reply(message, address):
        return None
    message_id = (_message_ids(str(message.get("Message-ID", ""))) or [""])[0]
    if not message_id:
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id>"
    message_id = message_id[:300]
    existing = _existing(message_id)
    if existing is not None:
        return existing
    subject = " ".join(str(message.get("Subject", "")).split())
    body = body_text(message)
    if not body and not subject:
        return None
    language = "ja" if JAPANESE.search(subject + body) else "en"
    try:
        thread = _thread_of(message, subject, address)
        if thread is not None:
            tickets.resident_reply(thread, None, body or subject, email_message_id=message_id)
            return thread
        clean_subject = SUBJECT_REFERENCE.sub("", REPLY_PREFIX.sub("", subject)).strip()
        return tickets.create_ticket(
            subject=clean_subject or body[:60],
            body=body or subject,
            channel=TicketChannel.EMAIL,
            language=language,
            name=name,
            email=address,
            source_message_id=message_id,
        )
    except IntegrityError:
        # The same Message-ID was filed meanwhile by another reader.
        return _existing(message_id)
