"""iCalendar (RFC 5545) files for bookings (予約): one VEVENT per booking.

Times are written in UTC (``…Z``), so no VTIMEZONE is needed and every calendar shows
the local time of its reader. Lines end with CRLF and are folded at 75 octets (never
inside a UTF-8 sequence); TEXT values are escaped (backslash, semicolon, comma, newline).
``METHOD:REQUEST`` adds or updates the event; ``METHOD:CANCEL`` with ``STATUS:CANCELLED``
and a higher ``SEQUENCE`` removes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRODID = "-//cityhall//bookings//EN"
MAX_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    organizer_email: str = ""
    sequence: int = 0
    cancelled: bool = False
    stamp: dt.datetime | None = None


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def utc_stamp(moment: dt.datetime) -> str:
    """A DATE-TIME in UTC form: ``20260401T010000Z``."""
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold one content line into chunks of at most 75 octets joined by CRLF + space."""
    raw = line.encode("utf-8")
    if len(raw) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current = b""
    limit = MAX_OCTETS
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = MAX_OCTETS - 1  # continuation lines start with one space
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def calendar(event: Event) -> str:
    """The whole VCALENDAR text (CRLF line ends, folded)."""
    stamp = event.stamp or dt.datetime.now(dt.UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if event.cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.organizer_email:
        lines.append(f"ORGANIZER:mailto:{event.organizer_email}")
    lines.append(f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}")
    lines.append("TRANSP:OPAQUE")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
