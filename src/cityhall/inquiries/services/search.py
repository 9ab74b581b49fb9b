"""FAQ search over the database.

The in-process index (``cityhall.inquiries.search``) is built from the published FAQ
entries on first use and rebuilt when the FAQ changes (``invalidate`` bumps a version in
the cache, so every process notices).
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from cityhall.core import pagecache
from cityhall.inquiries.models import FaqEntry, FaqText
from cityhall.inquiries.search.engine import Document, FaqEngine
from cityhall.inquiries.search.synonyms import Synonyms

logger = logging.getLogger(__name__)

VERSION_KEY = "inquiries:faq-index-version"
MAX_QUERY_CHARS = 500
MAX_LIMIT = 50


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


@dataclass(frozen=True)
class _Entry:
    key: str
    url: str
    category: str
    department_id: int | None
    procedures: tuple[str, ...]
    texts: dict[str, tuple[str, str]]  # language → (question, answer)

    def hit(self, score: float, language: str | None) -> Hit:
        wanted = (language or "ja").lower()
        shown = wanted if wanted in self.texts else ("ja" if "ja" in self.texts else "")
        if not shown:
            shown = next(iter(self.texts))
        question, answer = self.texts[shown]
        return Hit(
            key=self.key,
            score=score,
            question=question,
            answer=answer,
            language=shown,
            url=self.url,
            category=self.category,
            department_id=self.department_id,
            procedures=list(self.procedures),
        )


@dataclass(frozen=True)
class _Index:
    version: str
    engine: FaqEngine
    entries: dict[str, _Entry]


_lock = threading.Lock()
_index: _Index | None = None
_synonyms: tuple[str, Synonyms | None] | None = None


def _current_version() -> str:
    """The index version all processes agree on: a random token, new after each change (and
    after the cache was emptied, so an old index is never mistaken for the current one)."""
    value = cache.get(VERSION_KEY)
    if not isinstance(value, str):
        cache.add(VERSION_KEY, secrets.token_hex(8), None)
        value = cache.get(VERSION_KEY)
    return value if isinstance(value, str) else ""


def _bump() -> None:
    cache.set(VERSION_KEY, secrets.token_hex(8), None)


def invalidate() -> None:
    """The FAQ changed: rebuild the index before the next search (in every process).

    The version is bumped now and again after the transaction commits, so that a process
    that rebuilt in between (seeing the old rows) rebuilds once more.
    """
    global _index
    _bump()
    _index = None
    transaction.on_commit(_bump)
    transaction.on_commit(pagecache.bump)  # the cached /faq/ pages show the change at once


def synonyms() -> Synonyms | None:
    """The synonym dictionary named by ``settings.FAQ_SYNONYMS`` (loaded once per process)."""
    global _synonyms
    path = str(getattr(settings, "FAQ_SYNONYMS", "") or "")
    if _synonyms is None or _synonyms[0] != path:
        loaded: Synonyms | None = None
        if path:
            try:
                loaded = Synonyms.load(Path(path))
            except OSError:
                logger.warning("FAQ synonyms not found at %s: searching without them", path)
        _synonyms = (path, loaded)
    return _synonyms[1]


def _build(version: str) -> _Index:
    entries: dict[str, _Entry] = {}
    documents: list[Document] = []
    rows = FaqEntry.objects.filter(published=True).prefetch_related("texts").order_by("key")
    for entry in rows:
        texts: list[FaqText] = list(entry.texts.all())
        if not texts:
            continue
        entries[entry.key] = _Entry(
            key=entry.key,
            url=entry.url,
            category=entry.category,
            department_id=entry.department_id,
            procedures=tuple(str(p) for p in (entry.procedures or [])),
            texts={t.language: (t.question, t.answer) for t in texts},
        )
        documents.extend(
            Document(
                id=entry.key,
                language=t.language,
                question=t.question,
                answer=t.answer,
                keywords=t.keywords,
                category=entry.category,
            )
            for t in texts
        )
    engine = FaqEngine.build(documents, synonyms())
    return _Index(version=version, engine=engine, entries=entries)


def _current() -> _Index:
    global _index
    version = _current_version()
    index = _index
    if index is not None and index.version == version:
        return index
    with _lock:
        index = _index
        if index is None or index.version != version:
            index = _build(version)
            _index = index
    return index


def search(query: str, language: str | None = None, limit: int = 10) -> list[Hit]:
    """Best FAQ entries for ``query``, best first; ``[]`` for an empty or hopeless query.

    Raw ranked hits: the caller decides with ``settings.FAQ_MIN_SCORE`` what is good enough.
    """
    query = (query or "")[:MAX_QUERY_CHARS]
    if not query.strip():
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    index = _current()
    found = index.engine.search(query, language, limit)
    return [index.entries[key].hit(score, language) for key, score in found]


def entry(key: str, language: str | None = None) -> Hit | None:
    """The published FAQ entry ``key`` in ``language`` (else Japanese), score 0; or None."""
    found = _current().entries.get(key)
    return found.hit(0.0, language) if found is not None else None
