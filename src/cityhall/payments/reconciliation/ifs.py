"""eL-QR payments through 共通納税IFS (the 地方税共同機構's interface): an ASSUMED layout.

The official IFS file layout is given only to municipalities and their vendors. Until it
arrives this adapter reads the following CSV, behind the same interface as the others
(:mod:`.records`), so that only this module changes when the real one does:

- encoding UTF-8 (a BOM is allowed) or CP932 (tried when the bytes are not UTF-8);
- one header row (its first cell is not 8 digits), then one row per payment;
- 10 columns:

==  ======================  ====================================================
 #  column                  read as
==  ======================  ====================================================
 1  収納日                  YYYYMMDD
 2  収納時刻                HHMM or blank
 3  共通納税機関コード      5 digits (the city's, e.g. 24216)
 4  案件特定キー            20 digits (the notice number)
 5  確認番号                6 digits
 6  税目・料金番号          3 digits
 7  金額                    yen, digits
 8  金融機関コード          4 digits (the bank or payment site) → ``store_code``
 9  振込日                  YYYYMMDD (the day 地方税共同機構 transfers it: 振込日)
10  納付方法                free text (``pay-easy``, ``qr``, ``card`` …) → ``store_name``
==  ======================  ====================================================

``code`` is the eL番号 as printed, ``機関-案件特定キー-確認番号-税目``. Every IFS payment
is final (the money is already with 地方税共同機構); the import matches it on
案件特定キー + 確認番号.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from cityhall.payments.reconciliation.records import (
    CHANNEL_ELQR,
    DateCache,
    ParsedFile,
    Problem,
    Record,
    collect,
    parse_amount,
)

COLUMNS = 10
DATA_KIND = "D"
HEADER = (
    "収納日",
    "収納時刻",
    "共通納税機関コード",
    "案件特定キー",
    "確認番号",
    "税目・料金番号",
    "金額",
    "金融機関コード",
    "振込日",
    "納付方法",
)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp932", errors="replace")


def _digits(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isdigit()


def iter_records(data: bytes) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    first = True
    for row in reader:
        line_no = reader.line_num
        if first:
            first = False
            if row and not _digits(row[0].strip(), 8):
                continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        yield _record([c.strip() for c in row], line_no)


def _record(row: list[str], line_no: int) -> Record:
    raw = ",".join(row)
    dates = _DATES

    def bad(field: str, detail: str) -> Record:
        return Record(
            line_no=line_no,
            record_kind=DATA_KIND,
            code=raw[:64],
            amount=None,
            paid_on=None,
            channel=CHANNEL_ELQR,
            raw=raw,
            problem=Problem(line_no, field, detail),
        )

    if "\ufffd" in raw:
        return bad("", "the row is neither UTF-8 nor CP932 text")
    if len(row) != COLUMNS:
        return bad("", "the row does not have 10 columns")
    paid_text, time, institution, key, check, tax, amount_text, bank, booked_text, method = row
    if not _digits(institution, 5):
        return bad("共通納税機関コード", "the institution code is not 5 digits")
    if not _digits(key, 20):
        return bad("案件特定キー", "the notice number is not 20 digits")
    if not _digits(check, 6):
        return bad("確認番号", "the check number is not 6 digits")
    if not _digits(tax, 3):
        return bad("税目・料金番号", "the tax code is not 3 digits")
    code = f"{institution}-{key}-{check}-{tax}"
    try:
        paid_on = dates(paid_text)
    except ValueError:
        return bad("収納日", "the payment date is not a valid YYYYMMDD date")
    if time and not _digits(time, 4):
        return bad("収納時刻", "the payment time is not HHMM")
    try:
        amount = parse_amount(amount_text)
    except ValueError:
        return bad("金額", "the amount is not a whole number of yen")
    try:
        booked_on = dates(booked_text)
    except ValueError:
        return bad("振込日", "the transfer date is missing or not a valid YYYYMMDD date")
    return Record(
        line_no=line_no,
        record_kind=DATA_KIND,
        code=code,
        amount=amount,
        paid_on=paid_on,
        paid_time=time,
        booked_on=booked_on,
        channel=CHANNEL_ELQR,
        store_code=bank[:10],
        store_name=method[:40],
        notice_number=key,
        check_number=check,
        raw=raw,
    )


_DATES = DateCache()


def parse(data: bytes) -> ParsedFile:
    return collect(iter_records(data))


def write(rows: list[list[str]]) -> bytes:
    """A file in this layout (UTF-8 with BOM), header included — for tests and demos."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
