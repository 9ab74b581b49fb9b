"""The collection agent's file (収納データ, コンビニ・スマホ決済): CP932 CSV, 13 columns.

Layout (``shared/specs/payment-codes.md`` §4; one header row, then one row per event):

==  ===================  ===========================================================
 #  column               read as
==  ===================  ===========================================================
 1  種別                 ``01`` 速報, ``02`` 確報, ``03`` 速報取消, ``12`` postal
                         transfer, ``22`` its correction (reversal)
 2  収納日               YYYYMMDD (the day the payer paid)
 3  収納時刻             HHMM (may be blank on 02/12 rows)
 4  バーコード情報       ``EAN`` + the 44-digit barcode (44 digits alone are accepted)
 5  ユーザー使用欄1      kept in ``raw`` only
 6  ユーザー使用欄2      kept in ``raw`` only
 7  印紙フラグ           kept in ``raw`` only
 8  金額                 yen, digits
 9  コンビニ本部コード   → ``store_code`` (010 7-Eleven, 020 Lawson, 820 PayPay …)
10  コンビニ名           → ``store_name``
11  店舗コード           → ``shop_code`` (the single store)
12  振込日               YYYYMMDD; required on 02 and 12 rows (the revenue's booking
                         date), ignored elsewhere when blank
13  データ作成日         YYYYMMDD or blank (not used)
==  ===================  ===========================================================

The first line is the header when its first cell is not a two-digit record kind.
A row is MALFORMED (``Record.problem`` says why) when it does not have 13 columns, its
kind is not one of the five, a date or the amount is not readable, the barcode is not
44 digits or its check digit (:func:`cityhall.payments.codes.cvs.check_digit`) is wrong,
or the bytes are not CP932.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from cityhall.payments.codes import cvs
from cityhall.payments.reconciliation.records import (
    CHANNEL_CVS,
    CHANNEL_POSTAL,
    DateCache,
    ParsedFile,
    Problem,
    Record,
    collect,
    interner,
    parse_amount,
)

ENCODING = "cp932"
COLUMNS = 13
PROVISIONAL = "01"
FINAL = "02"
CANCEL = "03"
POSTAL = "12"
POSTAL_CANCEL = "22"
KINDS = frozenset({PROVISIONAL, FINAL, CANCEL, POSTAL, POSTAL_CANCEL})
NEEDS_BOOKING_DATE = frozenset({FINAL, POSTAL})
HEADER = (
    "種別",
    "収納日",
    "収納時刻",
    "バーコード情報",
    "ユーザー使用欄1",
    "ユーザー使用欄2",
    "印紙フラグ",
    "金額",
    "コンビニ本部コード",
    "コンビニ名",
    "店舗コード",
    "振込日",
    "データ作成日",
)


BAD_CHECK_DIGIT = "the barcode's check digit is wrong"


def check_digit_ok(barcode: str) -> bool:
    """The 44th digit is the check digit of the first 43 (:func:`cvs.check_digit`)."""
    return cvs.check_digit(barcode[:43]) == int(barcode[43])


def barcode_of(cell: str, *, check: bool = True) -> str:
    """The 44 digits of a barcode cell (``EAN`` prefix removed); ValueError if not valid."""
    text = cell.strip()
    if text[:3].upper() == "EAN":
        text = text[3:]
    if len(text) != cvs.LENGTH or not text.isascii() or not text.isdigit():
        raise ValueError("the barcode is not EAN followed by 44 digits")
    if check and not check_digit_ok(text):
        raise ValueError(BAD_CHECK_DIGIT)
    return text


def iter_records(data: bytes, *, check_digits: bool = True) -> Iterator[Record]:
    """The rows in file order. ``check_digits=False`` leaves the barcode's check digit to
    the caller — the import checks it only for barcodes that match no slip (a barcode
    equal to one the city issued has a valid check digit by construction), which saves
    a million checks on a million-row file."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding=ENCODING, errors="replace", newline="")
    reader = csv.reader(text)
    dates = DateCache()
    intern = interner()
    first = True
    line_no = 0
    for row in reader:
        line_no = reader.line_num
        if first:
            first = False
            if row and not (len(row[0].strip()) == 2 and row[0].strip().isdigit()):
                continue  # the header row
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # an empty line is not a row
        raw = ",".join(row)
        yield _record(row, line_no, raw, dates, intern, check_digits)


def _record(
    row: list[str],
    line_no: int,
    raw: str,
    dates: DateCache,
    intern: Callable[[str], str],
    check_digits: bool = True,
) -> Record:
    def bad(field: str, detail: str, code: str = "") -> Record:
        return Record(
            line_no=line_no,
            record_kind=row[0].strip()[:4] if row else "",
            code=code[:64],
            amount=None,
            paid_on=None,
            raw=raw,
            problem=Problem(line_no, field, detail),
        )

    if "\ufffd" in raw:
        return bad("", "the row is not CP932 (Shift_JIS) text")
    if len(row) != COLUMNS:
        return bad("", "the row does not have 13 columns")
    kind = row[0].strip()
    cell = row[3].strip()
    if kind not in KINDS:
        return bad("種別", "the record kind is not 01, 02, 03, 12 or 22", cell)
    try:
        code = barcode_of(cell, check=check_digits)
    except ValueError as error:
        return bad("バーコード情報", str(error), cell)
    try:
        paid_on = dates(row[1].strip())
    except ValueError:
        return bad("収納日", "the payment date is not a valid YYYYMMDD date", code)
    paid_time = row[2].strip()
    if paid_time and (len(paid_time) != 4 or not paid_time.isdigit()):
        return bad("収納時刻", "the payment time is not HHMM", code)
    try:
        amount = parse_amount(row[7])
    except ValueError:
        return bad("金額", "the amount is not a whole number of yen", code)
    booked_text = row[11].strip()
    booked_on = None
    if booked_text or kind in NEEDS_BOOKING_DATE:
        try:
            booked_on = dates(booked_text)
        except ValueError:
            return bad("振込日", "the transfer date is missing or not a valid YYYYMMDD date", code)
    return Record(
        line_no=line_no,
        record_kind=kind,
        code=code,
        amount=amount,
        paid_on=paid_on,
        paid_time=intern(paid_time),
        booked_on=booked_on,
        channel=CHANNEL_POSTAL if kind in (POSTAL, POSTAL_CANCEL) else CHANNEL_CVS,
        store_code=intern(row[8].strip()[:10]),
        store_name=intern(row[9].strip()[:40]),
        shop_code=intern(row[10].strip()[:10]),
        raw=raw,
    )


def parse(data: bytes) -> ParsedFile:
    return collect(iter_records(data))


def write_row(fields: list[str]) -> str:
    """One CSV line as the agent writes it (for tests and the benchmark)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(fields)
    return out.getvalue()
