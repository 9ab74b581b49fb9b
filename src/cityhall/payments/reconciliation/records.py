"""What every collection-file adapter returns (消込の入力): records and problems.

Framework-free and typed strictly. One adapter per source — :mod:`.agent_csv` (the
collection agent's CSV), :mod:`.zengin` (全銀 direct-debit results), :mod:`.ifs`
(eL-QR payments through 共通納税IFS) — each with the same two functions:

- ``iter_records(data: bytes) -> Iterator[Record]`` streams the rows in file order
  (what the import uses, so a file of a million rows is never held twice), and
- ``parse(data: bytes) -> ParsedFile`` collects them.

A row that cannot be read is still a :class:`Record`, with ``problem`` set: it becomes a
``MALFORMED`` line for the clerk, never a silent skip. A file whose structure is broken
as a whole (a 全銀 file without its header, totals in the trailer that do not add up)
sets ``ParsedFile.fatal``: the import rejects the file and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

# The channel values of ``cityhall.payments.models.Channel`` (repeated here: no Django).
CHANNEL_CVS = "cvs"
CHANNEL_POSTAL = "postal"
CHANNEL_DEBIT = "debit"
CHANNEL_ELQR = "elqr"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row (or the file, ``line`` 0) could not be read. ``detail`` is English."""

    line: int
    field: str
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "detail": self.detail}


@dataclass(slots=True)
class Record:
    """One row of a collection file, as read (amounts in integer yen).

    ``record_kind``: agent ``01`` 速報, ``02`` 確報, ``03`` 速報取消, ``12`` postal, ``22``
    postal correction; 全銀 ``2`` (a data record); IFS ``D``. ``code`` is what the row
    identifies the slip by: the 44-digit barcode, the 全銀 顧客番号, or the eL番号 of an
    IFS row. ``notice_number`` / ``check_number`` are the 案件特定キー / 確認番号 when the
    source carries them (全銀, IFS).
    """

    line_no: int
    record_kind: str
    code: str
    amount: int | None
    paid_on: dt.date | None
    paid_time: str = ""
    booked_on: dt.date | None = None
    channel: str = ""
    store_code: str = ""
    store_name: str = ""
    shop_code: str = ""
    notice_number: str = ""
    check_number: str = ""
    result_code: str = ""
    raw: str = ""
    problem: Problem | None = None


@dataclass
class ParsedFile:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fatal: bool = False


class Adapter(Protocol):
    def iter_records(self, data: bytes) -> Iterator[Record]: ...

    def parse(self, data: bytes) -> ParsedFile: ...


class FileError(ValueError):
    """Raised by ``iter_records`` when the file as a whole cannot be read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def collect(records: Iterator[Record]) -> ParsedFile:
    """``parse`` for any adapter: gather the records and their problems."""
    parsed = ParsedFile()
    try:
        for record in records:
            parsed.records.append(record)
            if record.problem is not None:
                parsed.problems.append(record.problem)
    except FileError as error:
        parsed.problems.append(error.problem)
        parsed.fatal = True
    return parsed


class DateCache:
    """``YYYYMMDD`` → date, memoised: a file has few distinct dates and a million rows."""

    def __init__(self) -> None:
        self._seen: dict[str, dt.date] = {}

    def __call__(self, text: str) -> dt.date:
        found = self._seen.get(text)
        if found is None:
            if len(text) != 8 or not text.isdigit():
                raise ValueError("not YYYYMMDD")
            found = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            self._seen[text] = found
        return found


def interner() -> Callable[[str], str]:
    """Share equal strings (store names, codes) between rows."""
    seen: dict[str, str] = {}

    def intern(text: str) -> str:
        return seen.setdefault(text, text)

    return intern


# --- row-level idempotency (a file sent again with more rows) ----------------------------------

NaturalKey = tuple[str, str, "dt.date | None", str, str, "int | None"]


def natural_key(
    record_kind: str,
    code: str,
    paid_on: dt.date | None,
    paid_time: str,
    store_code: str,
    amount: int | None,
) -> NaturalKey:
    """What makes two rows the same event, whatever file they came in (THE one definition).

    An agent resends a day's file with its earlier rows plus new ones (so with another
    hash): a row whose key equals a row of an earlier applied file of the same kind is
    read once only (``ALREADY_READ``). The key is the record kind, the code (barcode,
    customer number or eL番号, as stored: 64 characters at most), the 収納日, the 収納時刻
    (``HHMM``; empty where the source has none), the store code (コンビニ本部コード / bank
    code, 10 characters at most) and the amount in yen.
    """
    return (record_kind[:4], code[:64], paid_on, paid_time, store_code[:10], amount)


def key_of(record: Record) -> NaturalKey:
    return natural_key(
        record.record_kind,
        record.code,
        record.paid_on,
        record.paid_time,
        record.store_code,
        record.amount,
    )


def paid_time_of_raw(raw: str, column: int) -> str:
    """The 収納時刻 of a stored row (``raw`` is its cells joined by commas): cell ``column``
    (0-based). Only cells before any free-text cell are read, so commas inside a quoted
    store name cannot shift it."""
    cells = raw.split(",", column + 1)
    return cells[column].strip() if len(cells) > column else ""


def parse_amount(text: str) -> int:
    """Integer yen written as ASCII digits (no sign, no separators, no decimals)."""
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValueError("not a whole number of yen")
    return int(text)
