"""Direct-debit results (預金口座振替 結果データ) in the 全銀協 120-byte fixed records.

The bank returns the city's debit request with one result code per data record. Records
are 120 bytes each, JIS (ASCII + 半角カナ, read as CP932 where every such character is
one byte), either back to back or each followed by CR LF. Positions are 1-based bytes:

Header (データ区分 ``1``), once, first:

=========  ===  ==========================================
 1          1   データ区分 ``1``
 2–3        2   種別コード ``91`` (口座振替)
 4          1   コード区分 ``0`` JIS
 5–14      10   委託者コード
15–54      40   委託者名 (半角カナ)
55–58       4   引落日 MMDD — the debit date, used as 収納日 and 振込日
59–62       4   取引銀行番号
63–77      15   取引銀行名
78–80       3   取引支店番号
81–95      15   取引支店名
96          1   預金種目 (委託者)
97–103      7   口座番号 (委託者)
104–120    17   ダミー
=========  ===  ==========================================

Data (データ区分 ``2``), one per debit:

=========  ===  ==========================================
 1          1   データ区分 ``2``
 2–5        4   引落銀行番号
 6–20      15   引落銀行名
21–23       3   引落支店番号
24–38      15   引落支店名
39–42       4   ダミー
43          1   預金種目 (1 普通, 2 当座, 9 その他)
44–50       7   口座番号
51–80      30   預金者名 (半角カナ)
81–90      10   引落金額 (yen)
91          1   新規コード
92–111     20   顧客番号 — **assumed**: the 案件特定キー (notice number, 20 digits) of the
                slip the debit was requested for; the city writes it there in the request
                and the bank returns it unchanged
112         1   振替結果コード (see :data:`RESULTS`)
113–120     8   ダミー
=========  ===  ==========================================

Trailer (``8``): 2–7 合計件数, 8–19 合計金額, 20–25 振替済件数, 26–37 振替済金額, 38–43
振替不能件数, 44–55 振替不能金額. End (``9``): the rest is dummy.

The header's date has no year: the year is the one that puts the debit date within
300 days before and 65 days after ``today`` (the import's date). A file without a
header, or whose trailer counts or sums differ from its data records, is rejected whole
(``ParsedFile.fatal``); a data record that cannot be read is a MALFORMED line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from cityhall.payments.reconciliation.records import (
    CHANNEL_DEBIT,
    FileError,
    ParsedFile,
    Problem,
    Record,
    collect,
)

RECORD = 120
ENCODING = "cp932"
DATA_KIND = "2"
PAID = "0"
# 振替結果コード → what it means (English; the import translates it for the clerk).
RESULTS = {
    "0": "debited (振替済)",
    "1": "insufficient funds (資金不足)",
    "2": "no such account (取引なし)",
    "3": "stopped by the account holder (預金者都合による振替停止)",
    "4": "no debit authorisation on file (依頼書なし)",
    "8": "stopped by the city (委託者都合による振替停止)",
    "9": "other reason (その他)",
}


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    """The 120-byte records with their 1-based record numbers (CR LF or none between)."""
    if b"\n" in data:
        lines = data.split(b"\n")
        return [
            (n, line.rstrip(b"\r"))
            for n, line in enumerate(lines, start=1)
            if line.rstrip(b"\r") or n < len(lines)
        ]
    return [(n // RECORD + 1, data[n : n + RECORD]) for n in range(0, len(data), RECORD)]


def debit_year(mmdd: str, today: dt.date) -> dt.date:
    month, day = int(mmdd[:2]), int(mmdd[2:])
    for year in (today.year, today.year - 1, today.year + 1):
        try:
            date = dt.date(year, month, day)
        except ValueError:
            continue
        if today - dt.timedelta(days=300) <= date <= today + dt.timedelta(days=65):
            return date
    raise ValueError("the debit date is not a valid MMDD date near today")


def _text(record: bytes, start: int, length: int) -> str:
    """Bytes ``start``…``start+length-1`` (1-based, as the layout tables count)."""
    return record[start - 1 : start - 1 + length].decode(ENCODING, errors="replace")


def iter_records(data: bytes, *, today: dt.date | None = None) -> Iterator[Record]:
    today = today or dt.date.today()
    records = split_records(data)
    if not records or records[0][1][:1] != b"1":
        raise FileError(Problem(1, "データ区分", "the file does not start with a header record"))
    number, header = records[0]
    if len(header) != RECORD:
        raise FileError(Problem(number, "", "the header record is not 120 bytes"))
    try:
        debit_date = debit_year(_text(header, 55, 4), today)
    except ValueError as error:
        raise FileError(Problem(number, "引落日", str(error))) from error
    count = total = paid_count = paid_total = 0
    trailer: bytes | None = None
    for number, record in records[1:]:
        kind = record[:1]
        if kind == b"2":
            row = _data(number, record, debit_date)
            count += 1
            if row.amount is not None:
                total += row.amount
                if row.result_code == PAID:
                    paid_count += 1
                    paid_total += row.amount
            yield row
        elif kind == b"8":
            trailer = record
        elif kind == b"9":
            break
        else:
            yield Record(
                line_no=number,
                record_kind=kind.decode("ascii", errors="replace"),
                code="",
                amount=None,
                paid_on=None,
                raw=record.decode(ENCODING, errors="replace"),
                problem=Problem(number, "データ区分", "the record kind is not 1, 2, 8 or 9"),
            )
    if trailer is None:
        raise FileError(Problem(0, "", "the file has no trailer record (8): it may be cut short"))
    expected = (_text(trailer, 2, 6), _text(trailer, 8, 12))
    if not all(x.isdigit() for x in expected) or (int(expected[0]), int(expected[1])) != (
        count,
        total,
    ):
        raise FileError(
            Problem(0, "合計件数", "the trailer's count or total differs from the data records")
        )
    done = (_text(trailer, 20, 6), _text(trailer, 26, 12))
    if all(x.isdigit() for x in done) and (int(done[0]), int(done[1])) != (paid_count, paid_total):
        raise FileError(
            Problem(0, "振替済件数", "the trailer's debited count or total differs from the data")
        )


def _data(number: int, record: bytes, debit_date: dt.date) -> Record:
    raw = record.decode(ENCODING, errors="replace")
    customer = _text(record, 92, 20).strip()

    def bad(field: str, detail: str) -> Record:
        return Record(
            line_no=number,
            record_kind=DATA_KIND,
            code=customer,
            amount=None,
            paid_on=None,
            channel=CHANNEL_DEBIT,
            raw=raw,
            problem=Problem(number, field, detail),
        )

    if len(record) != RECORD:
        return bad("", "the record is not 120 bytes")
    amount_text = _text(record, 81, 10)
    if not amount_text.isdigit():
        return bad("引落金額", "the amount is not 10 digits")
    result = _text(record, 112, 1)
    if result not in RESULTS:
        return bad("振替結果コード", "the result code is not 0, 1, 2, 3, 4, 8 or 9")
    if len(customer) != 20 or not customer.isdigit():
        return bad("顧客番号", "the customer number is not a 20-digit notice number")
    return Record(
        line_no=number,
        record_kind=DATA_KIND,
        code=customer,
        amount=int(amount_text),
        paid_on=debit_date,
        booked_on=debit_date,
        channel=CHANNEL_DEBIT,
        store_code=_text(record, 2, 4),
        notice_number=customer,
        result_code=result,
        raw=raw,
    )


def parse(data: bytes, *, today: dt.date | None = None) -> ParsedFile:
    return collect(iter_records(data, today=today))


# --- writing (tests, the benchmark, a debit request of the same shape) ------------------


def _field(value: str | int, length: int, numeric: bool) -> bytes:
    text = str(value)
    encoded = (text.rjust(length, "0") if numeric else text.ljust(length)).encode(ENCODING)
    if len(encoded) != length:
        raise ValueError(f"{value!r} does not fit {length} bytes")
    return encoded


def header(*, debit_date: dt.date, company_code: str = "0000000001", company: str = "ｲｶﾞｼ") -> bytes:
    return b"".join(
        [
            b"1",
            b"91",
            b"0",
            _field(company_code, 10, True),
            _field(company, 40, False),
            debit_date.strftime("%m%d").encode(),
            _field("0000", 4, True),
            _field("", 15, False),
            _field("000", 3, True),
            _field("", 15, False),
            b"1",
            _field("0", 7, True),
            _field("", 17, False),
        ]
    )


def data_record(
    *, notice_number: str, amount: int, result: str, name: str = "ｲｶﾞ ﾊﾅｺ", bank: str = "0001"
) -> bytes:
    return b"".join(
        [
            b"2",
            _field(bank, 4, True),
            _field("", 15, False),
            _field("001", 3, True),
            _field("", 15, False),
            _field("", 4, False),
            b"1",
            _field("1234567", 7, True),
            _field(name, 30, False),
            _field(amount, 10, True),
            b"0",
            _field(notice_number, 20, True),
            result.encode(),
            _field("", 8, False),
        ]
    )


def trailer(rows: list[tuple[int, str]]) -> bytes:
    """``rows`` = (amount, result) of the data records."""
    paid = [a for a, r in rows if r == PAID]
    unpaid = [a for a, r in rows if r != PAID]
    return b"".join(
        [
            b"8",
            _field(len(rows), 6, True),
            _field(sum(a for a, _ in rows), 12, True),
            _field(len(paid), 6, True),
            _field(sum(paid), 12, True),
            _field(len(unpaid), 6, True),
            _field(sum(unpaid), 12, True),
            _field("", 65, False),
        ]
    )


def end() -> bytes:
    return b"9" + _field("", 119, False)
