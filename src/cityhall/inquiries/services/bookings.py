"""Bookings (予約) — helper: bookings. Stub of the interface other parts call."""

from __future__ import annotations

from typing import Any


def mypage_overview(user: Any) -> dict[str, Any]:
    """What my page shows of the resident's bookings (upcoming first)."""
    return {"upcoming": [], "count": 0}
