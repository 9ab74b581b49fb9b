"""A municipal glossary (行政用語の対訳集) for cross-language FAQ search.

Most FAQ entries exist only in Japanese. A query in English, Portuguese, Spanish, Vietnamese
or Chinese is translated word by word through this glossary into Japanese terms, and the
engine searches the Japanese texts with them (:mod:`.engine`).

File format (``data/glossary.csv``, UTF-8): columns ``language,term,ja``; several rows per
concept, one per term; ``term`` may be a phrase; ``ja`` holds one or more Japanese terms
separated by spaces. Latin-script terms are matched as the engine reads the query:
lowercased, accents stripped (Vietnamese therefore also matches without diacritics), lightly
stemmed, stop words left out (negations kept). Chinese terms are matched as character
strings. Longer phrases win over shorter ones.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from cityhall.inquiries.search.analysis import (
    _STOP_WORDS_LATIN,
    _WORD_RE,
    _stem,
    base_language,
    strip_accents,
)

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "glossary.csv"

#: Negations are stop words for the analyzer, but they change a glossary term's meaning
#: (non-burnable, não queimável, no quemable, không cháy).
_KEEP = frozenset({"not", "no", "non", "nao", "khong"})
_LATIN = frozenset({"en", "pt", "es", "vi"})


@cache
def _stops(lang: str) -> frozenset[str]:
    words = _STOP_WORDS_LATIN.get(lang, frozenset())
    return frozenset(strip_accents(w) for w in words) - _KEEP


def latin_tokens(text: str, lang: str) -> list[str]:
    """The words of ``text`` as the glossary matches them (folded, stemmed, no stop words)."""
    text = strip_accents(unicodedata.normalize("NFKC", text).lower())
    if lang == "vi":  # syllables; Vietnamese has no inflection to stem
        return _WORD_RE.findall(text)
    stops = _stops(lang)
    return [_stem(w, lang) for w in _WORD_RE.findall(text) if w not in stops]


class Glossary:
    """Terms per language → Japanese terms; :meth:`translate` maps a query."""

    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        self._latin: dict[str, dict[tuple[str, ...], list[str]]] = {}
        self._chinese: dict[str, list[str]] = {}
        self._longest: dict[str, int] = {}
        count = 0
        for language, term, ja in entries:
            lang = base_language(language)
            targets = ja.split()
            if lang is None or lang == "ja" or not targets or not term.strip():
                continue
            if lang == "zh":
                key_text = unicodedata.normalize("NFKC", term).strip().lower()
                bucket = self._chinese.setdefault(key_text, [])
                size = len(key_text)
            else:
                key = tuple(latin_tokens(term, lang))
                if not key:
                    continue
                bucket = self._latin.setdefault(lang, {}).setdefault(key, [])
                size = len(key)
            bucket.extend(t for t in targets if t not in bucket)
            self._longest[lang] = max(self._longest.get(lang, 0), size)
            count += 1
        self._count = count

    def __len__(self) -> int:
        return self._count

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> Glossary:
        """Read the CSV file at ``path``."""
        return cls.parse(Path(path).read_text(encoding="utf-8-sig"))

    @classmethod
    def parse(cls, text: str) -> Glossary:
        reader = csv.DictReader(io.StringIO(text))
        return cls(
            (row.get("language") or "", row.get("term") or "", row.get("ja") or "")
            for row in reader
        )

    def translate(self, query: str, language: str) -> list[str]:
        """Japanese terms for ``query`` read in ``language`` (longest phrases first), in
        query order without repeats; ``[]`` for Japanese or when nothing matches."""
        lang = base_language(language)
        if lang == "zh":
            return self._translate_chinese(query)
        if lang not in _LATIN:
            return []
        table = self._latin.get(lang)
        if not table:
            return []
        return _greedy(latin_tokens(query, lang), table, self._longest[lang])

    def _translate_chinese(self, query: str) -> list[str]:
        if not self._chinese:
            return []
        text = unicodedata.normalize("NFKC", query).lower()
        out: list[str] = []
        longest = self._longest["zh"]
        i = 0
        while i < len(text):
            for size in range(min(longest, len(text) - i), 0, -1):
                found = self._chinese.get(text[i : i + size])
                if found is not None:
                    out.extend(t for t in found if t not in out)
                    i += size
                    break
            else:
                i += 1
        return out


def _greedy(
    tokens: Sequence[str], table: dict[tuple[str, ...], list[str]], longest: int
) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            found = table.get(tuple(tokens[i : i + size]))
            if found is not None:
                out.extend(t for t in found if t not in out)
                i += size
                break
        else:
            i += 1
    return out


@cache
def default_glossary() -> Glossary | None:
    """The glossary shipped with the engine (loaded once per process); None if missing."""
    try:
        return Glossary.load(DEFAULT_PATH)
    except FileNotFoundError:
        return None
