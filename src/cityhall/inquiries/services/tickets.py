"""Tickets (問い合わせ) — helper: tickets. Stub of the interface other parts call."""

from __future__ import annotations

from typing import Any

from cityhall.inquiries.models import Conversation, Ticket


def open_count(user: Any) -> int:
    """Open inquiries the member of staff may work on (the case board tab's badge)."""
    return 0


def mypage_overview(user: Any) -> dict[str, Any]:
    """What my page shows of the resident's inquiries."""
    return {"open": [], "count": 0}


def create_ticket(
    *,
    subject: str,
    body: str,
    channel: str,
    language: str = "ja",
    resident: Any = None,
    name: str = "",
    email: str = "",
    conversation: Conversation | None = None,
    source_message_id: str = "",
    request: Any = None,
) -> Ticket:
    """Open a ticket, route it (rules, classifier, triage), notify; in one transaction."""
    raise NotImplementedError
