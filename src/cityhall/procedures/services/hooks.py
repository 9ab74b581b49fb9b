"""Named hooks that other apps fill in: the fee step of a procedure.

A procedure with a fee names a hook (``Procedure.fee_hook``, e.g. ``"payments.fee"``).
The payments module registers a function under that name; after submission the
resident is sent to the URL it returns. Until a hook is registered, the fee is
recorded as due (``Application.fee_status = "due"``) and the receipt tells the
resident to pay at the counter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

FeeHook = Callable[[Any], str | None]  # (application) -> URL to pay, or None

FEE_HOOKS: dict[str, FeeHook] = {}


def register_fee_hook(name: str, hook: FeeHook) -> None:
    FEE_HOOKS[name] = hook


def fee_url(application: Any) -> str | None:
    """Where the resident pays the fee of this application, if a hook is registered."""
    hook = FEE_HOOKS.get(application.procedure.fee_hook or "")
    return hook(application) if hook else None


# --- tabs of the case board ---------------------------------------------------------------
#
# The case board is one board for everything a clerk works on. Applications are this
# module's own; other apps (inquiries) add a tab with a label, the URL of their list (same
# staff section, same layout) and a count of open items the user may work on.

BoardCount = Callable[[Any], int]  # (user) -> open items for that user, 0 hides nothing
BOARD_TABS: list[tuple[str, Any, BoardCount]] = []


def register_board_tab(url_name: str, label: Any, count: BoardCount) -> None:
    """Add a tab after "Applications" on the case board (once per URL name)."""
    if not any(name == url_name for name, _label, _count in BOARD_TABS):
        BOARD_TABS.append((url_name, label, count))


def board_tabs(user: Any, current: str) -> list[dict[str, Any]]:
    """The tabs of the board for ``user``; ``current`` is the URL name being shown."""
    entries: list[tuple[str, Any, BoardCount | None]] = [
        ("procstaff:board", gettext_lazy("Applications"), None),
        *BOARD_TABS,
    ]
    return [
        {
            "url": reverse(name),
            "label": str(label),
            "count": count(user) if count else None,
            "current": name == current,
        }
        for name, label, count in entries
    ]
