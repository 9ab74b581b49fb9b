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

FeeHook = Callable[[Any], str | None]  # (application) -> URL to pay, or None

FEE_HOOKS: dict[str, FeeHook] = {}


def register_fee_hook(name: str, hook: FeeHook) -> None:
    FEE_HOOKS[name] = hook


def fee_url(application: Any) -> str | None:
    """Where the resident pays the fee of this application, if a hook is registered."""
    hook = FEE_HOOKS.get(application.procedure.fee_hook or "")
    return hook(application) if hook else None
