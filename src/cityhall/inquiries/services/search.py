"""FAQ search over the database (helper: search).

The in-process index (``cityhall.inquiries.search``) is built from the published FAQ
entries on first use and rebuilt when the FAQ changes (``invalidate`` bumps a version in
the cache, so every process notices).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hit:
    """One FAQ entry found, in the language asked for (else Japanese)."""

    key: str
    score: float
    question: str
    answer: str
    language: str  # the language of question/answer shown
    url: str = ""  # the source page of the city
    category: str = ""
    department_id: int | None = None
    procedures: list[str] = field(default_factory=list)


def invalidate() -> None:
    """The FAQ changed: rebuild the index before the next search (in every process)."""


def search(query: str, language: str | None = None, limit: int = 10) -> list[Hit]:
    """Best FAQ entries for ``query``, best first; ``[]`` for an empty or hopeless query."""
    return []
