"""The Japanese calendar (和暦): eras, conversion to and from ISO dates, a forgiving date parser.

Eras start on the day the new era name took effect (明治 1868-10-23 by the
proclamation, made retroactive to 1868-01-25 in the lunar calendar; we use the
Gregorian date of the proclamation). Japan adopted the Gregorian calendar on
明治6年1月1日 (1873-01-01); dates before that are treated as proleptic Gregorian
dates, which is what every date field here means.

The first year of an era is written 元年 (``format_wareki``); both ``元`` and ``1``
are accepted when parsing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Era:
    kanji: str  # 令和
    letter: str  # R
    name: str  # Reiwa
    start: date  # first day, inclusive
    end: date | None  # last day, inclusive; None for the current era

    def contains(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)

    def year_of(self, d: date) -> int:
        """The era year of a date in this era (1 for 元年)."""
        return d.year - self.start.year + 1


def _eras() -> tuple[Era, ...]:
    raw = (
        ("明治", "M", "Meiji", date(1868, 10, 23)),
        ("大正", "T", "Taisho", date(1912, 7, 30)),
        ("昭和", "S", "Showa", date(1926, 12, 25)),
        ("平成", "H", "Heisei", date(1989, 1, 8)),
        ("令和", "R", "Reiwa", date(2019, 5, 1)),
    )
    out: list[Era] = []
    for i, (kanji, letter, name, start) in enumerate(raw):
        end = raw[i + 1][3] - timedelta(days=1) if i + 1 < len(raw) else None
        out.append(Era(kanji, letter, name, start, end))
    return tuple(out)


ERAS: tuple[Era, ...] = _eras()
FIRST_DATE = ERAS[0].start

_BY_CODE: dict[str, Era] = {}
for _era in ERAS:
    for _code in (_era.kanji, _era.letter, _era.name, _era.name.replace("o", "ou", 1)):
        _BY_CODE[_code.lower()] = _era


def era(code: str) -> Era:
    """The era for a kanji name (令和), a letter (R, r), a romaji name or a ligature (㋿)."""
    key = unicodedata.normalize("NFKC", code or "").strip().lower()
    found = _BY_CODE.get(key)
    if found is None:
        raise ValueError(f"unknown era {code!r}")
    return found


def era_of(d: date) -> Era:
    """The era a date falls in; ``ValueError`` before 明治."""
    for candidate in reversed(ERAS):
        if candidate.contains(d):
            return candidate
    raise ValueError(f"{d.isoformat()} is before the Meiji era")


def to_wareki(d: date) -> tuple[Era, int]:
    """``(era, year)`` for a date: ``to_wareki(date(2026, 11, 26)) == (令和, 8)``."""
    e = era_of(d)
    return e, e.year_of(d)


def format_year(e: Era, year: int) -> str:
    return f"{e.kanji}{'元' if year == 1 else year}年"


def format_wareki(d: date) -> str:
    """``"令和8年11月26日"`` (``"令和元年5月1日"`` for the first year)."""
    e, year = to_wareki(d)
    return f"{format_year(e, year)}{d.month}月{d.day}日"


def from_wareki(era_code: str | Era, year: int, month: int, day: int) -> date:
    """The date for an era year, month and day; ``ValueError`` if invalid or outside the era."""
    e = era_code if isinstance(era_code, Era) else era(era_code)
    if year < 1:
        raise ValueError("an era year starts at 1")
    d = date(e.start.year + year - 1, month, day)  # ValueError for 2月30日 etc.
    if not e.contains(d):
        raise ValueError(f"{format_year(e, year)}{month}月{day}日 is not in the {e.name} era")
    return d


# --- parsing ------------------------------------------------------------------------------

_ERA_ALTERNATIVES = "|".join(
    sorted((re.escape(k) for k in _BY_CODE), key=len, reverse=True)  # longest first
)
_WAREKI_RE = re.compile(
    rf"^(?P<era>{_ERA_ALTERNATIVES})(?P<year>\d{{1,2}}|元)(?:年|[./\-])"
    r"(?P<month>\d{1,2})(?:月|[./\-])(?P<day>\d{1,2})日?$",
    re.IGNORECASE | re.ASCII,
)
_SEIREKI_RE = re.compile(
    r"^(?:西暦|AD)?(?P<year>\d{4})(?:年|[./\-])(?P<month>\d{1,2})(?:月|[./\-])(?P<day>\d{1,2})日?$",
    re.IGNORECASE | re.ASCII,
)
_COMPACT_RE = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$", re.ASCII)
_DASHES = str.maketrans({"ー": "-", "－": "-", "‐": "-", "‑": "-", "–": "-", "—": "-", "−": "-"})


def clean(text: str) -> str:
    """NFKC (full-width digits to half-width, ㋿ to 令和), dashes unified, no spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return re.sub(r"\s+", "", text)


def parse_date(text: str) -> date:
    """A date as ISO, ``2026/11/26``, ``2026年11月26日``, ``令和8年11月26日``, ``R8.11.26`` …

    Full-width digits and spaces are accepted; ``元年`` is year 1. ``ValueError`` if it is
    not a date.
    """
    if not isinstance(text, str):
        raise ValueError("a date is text")
    s = clean(text)
    m = _WAREKI_RE.match(s)
    if m:
        year = 1 if m["year"] == "元" else int(m["year"])
        return from_wareki(m["era"], year, int(m["month"]), int(m["day"]))
    m = _SEIREKI_RE.match(s) or _COMPACT_RE.match(s)
    if m:
        return date(int(m["year"]), int(m["month"]), int(m["day"]))
    raise ValueError(f"not a date: {text!r}")
