"""Procedure fees as charges. TO BE IMPLEMENTED (owner: charges helper)."""

from __future__ import annotations

from typing import Any


def fee_url(application: Any) -> str | None:
    return None


def connect_signals() -> None:
    return None
