"""eL-QR (地方税統一QRコード): build and parse the 255-digit payload.

Spec: ``shared/specs/payment-codes.md`` §1 (eL-QR) and §2 (eL番号). Each rule of the
format lives in one named constant or function below, with the section it comes from,
so that it can be aligned with the official 総務省 / 地方税共同機構 documents:

- :data:`TOP_LEVEL_LAYOUT` — tag order and lengths of the payload;
- :data:`MERCHANT_LAYOUT` — the nested elements of tag 27;
- :data:`MPN_LINE_1` / :data:`MPN_LINE_2` — the two OCR-style lines of the MPN block;
- :data:`DATES_LAYOUT` — tag 62 (years, 期別, 納期限, 支払期限);
- :data:`RESERVED_TAG_80` — tag 80's reserved zeros;
- :func:`cityhall.payments.codes.ocr.check_digits` — each MPN line's check digits;
- :func:`crc_input` + :func:`cityhall.payments.codes.crc.crc_decimal` — tag 63.

:func:`parse` rejects anything :func:`build` would not have written, so
``build(parse(p)) == p`` for every payload ``parse`` accepts. Single-digit
substitutions and adjacent transpositions anywhere in the payload are always caught
(the CRC-16 detects every error burst of 16 bits or less, which covers one changed
byte and two swapped neighbouring bytes; the CRC value itself is compared whole).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cityhall.payments.codes import CodeError, crc, ocr

LENGTH = 255
AGENCY_ID = "13800"  # 地方税共同機構 (spec §1, tag 27/00 and MPN line 1)

#: Top-level elements, in this exact order: (tag, length of the value) (spec §1 table).
#: 2+2+2 + 2+2+2 + 2+2+96 + 2+2+11 + 2+2+26 + 2+2+85 + 2+2+5 = 255.
TOP_LEVEL_LAYOUT: tuple[tuple[str, int], ...] = (
    ("00", 2),  # format version
    ("01", 2),  # point of initiation (fixed "12")
    ("27", 96),  # merchant account: nested, see MERCHANT_LAYOUT
    ("54", 11),  # amount in yen, zero-padded
    ("62", 26),  # years, 期別, dates: see DATES_LAYOUT
    ("80", 85),  # reserved
    ("63", 5),  # CRC, 5 decimal digits
)
#: Fixed values of top-level elements (spec §1 table).
FORMAT_VERSION = "01"  # tag 00
INITIATION = "12"  # tag 01
RESERVED_TAG_80 = "0" * 85  # tag 80 (spec §1: "85 zeros (reserved)")
CRC_TAG = "63"

#: Nested elements of tag 27, in order: (tag, length) (spec §1 table, row 27).
MERCHANT_LAYOUT: tuple[tuple[str, int], ...] = (("00", 5), ("01", 83))

#: A field of an MPN line: (name, width, fixed value or None for a variable field).
Field = tuple[str, int, str | None]

#: MPN line 1 body, after its 2 check digits (spec §1 "MPN block", line 1): 37 digits.
MPN_LINE_1: tuple[Field, ...] = (
    ("account", 11, "0" * 11),  # 口座番号 (zeros)
    ("amount", 11, None),  # 払込金額
    ("fee_burden", 1, "2"),  # 手数料負担区分
    ("agency_id", 5, AGENCY_ID),  # 機関ID
    ("stamp_duty", 1, "0"),  # 印紙税要否区分
    ("tax_code", 3, None),  # 税目・料金番号
    ("reserved", 5, "0" * 5),
)
#: MPN line 2 body, after its 2 check digits (spec §1 "MPN block", line 2): 42 digits.
MPN_LINE_2: tuple[Field, ...] = (
    ("notice_number", 20, None),  # 案件特定キー (納付番号)
    ("check_number", 6, None),  # 確認番号
    ("separator", 1, "0"),
    ("institution_code", 5, None),  # 共通納税機関コード (assumed: the LG code's 5 digits)
    ("office_code", 3, None),  # 税務事務所コード
    ("reserved", 7, "0" * 7),
)
#: Number of check digits printed before each MPN line body (spec §1).
OCR_CHECK_WIDTH = 2

#: Tag 62, in order: (name, width) (spec §1 table, row 62).
DATES_LAYOUT: tuple[tuple[str, int], ...] = (
    ("fiscal_year", 4),  # 賦課年度 yyyy
    ("tax_year", 4),  # 課税年度 yyyy
    ("period", 2),  # 期別
    ("due_date", 8),  # 納期限 yyyymmdd
    ("pay_by", 8),  # 支払期限 yyyymmdd
)

#: Largest amount that fits the 11-digit fields (tag 54, 払込金額).
MAX_AMOUNT = 10**11 - 1


class ElQrError(CodeError):
    """Raised by :func:`parse` and :func:`build`; ``problem`` names what is wrong.

    Problems of :func:`parse`: ``length``, ``digits``, ``tag`` (wrong tag, order or
    length), ``crc``, ``fixed-value`` (a value the format fixes, e.g. the version or
    the agency 13800), ``check-digit`` (an MPN line's OCR digits), ``amount`` (tag 54
    differs from the MPN amount), ``date``. Problem of :func:`build`: ``field`` (a
    value that does not fit; the message names it).
    """


@dataclass(frozen=True)
class ElNumber:
    """eL番号: the four items a payer types when the QR cannot be scanned (spec §2)."""

    institution_code: str  # 共通納税機関コード (5)
    notice_number: str  # 案件特定キー (20)
    check_number: str  # 確認番号 (6)
    tax_code: str  # 税目・料金番号 (3)

    def formatted(self) -> str:
        """Grouped for typing, e.g. ``24216 0000-0000-2026-0000-0001 123456 999``.

        The four items in the order of spec §2, separated by spaces; the 20-digit
        案件特定キー is split into groups of four joined by hyphens so that a payer
        can keep their place while typing (a presentation choice, not part of any
        standard: payment sites take the digits without separators).
        """
        key = "-".join(self.notice_number[i : i + 4] for i in range(0, len(self.notice_number), 4))
        return f"{self.institution_code} {key} {self.check_number} {self.tax_code}"


@dataclass(frozen=True)
class ElQr:
    amount: int  # yen
    tax_code: str  # 税目・料金番号 (3 digits)
    notice_number: str  # 案件特定キー (20 digits)
    check_number: str  # 確認番号 (6 digits)
    institution_code: str  # 共通納税機関コード (5 digits)
    office_code: str  # 税務事務所コード (3 digits)
    fiscal_year: int  # 賦課年度
    tax_year: int  # 課税年度
    period: int  # 期別 (0–99)
    due_date: dt.date  # 納期限
    pay_by: dt.date  # 支払期限

    @property
    def el_number(self) -> ElNumber:
        return ElNumber(self.institution_code, self.notice_number, self.check_number, self.tax_code)


# --- small helpers -------------------------------------------------------------


def _is_digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` alone also accepts ``"２"`` or ``"²"``)."""
    return text.isascii() and text.isdigit()


def _tlv(tag: str, value: str) -> str:
    """One element: 2-digit tag, 2-digit length, value (spec §1: EMV-MPM style TLV)."""
    return f"{tag}{len(value):02d}{value}"


def _read_elements(text: str, layout: tuple[tuple[str, int], ...], where: str) -> list[str]:
    """Split ``text`` into the values of ``layout``'s elements, in order, exactly."""
    values: list[str] = []
    pos = 0
    for tag, length in layout:
        head = text[pos : pos + 4]
        if head != f"{tag}{length:02d}":
            raise ElQrError(
                "tag",
                f"{where}: expected tag {tag} with length {length:02d} at position {pos + 1}, "
                f"found {head!r}.",
            )
        values.append(text[pos + 4 : pos + 4 + length])
        pos += 4 + length
    if pos != len(text):  # pragma: no cover - the layouts add up to the lengths checked
        raise ElQrError("tag", f"{where}: {len(text) - pos} digits after the last element.")
    return values


def _split_fields(body: str, fields: tuple[Field, ...], where: str) -> dict[str, str]:
    """Cut an MPN line body into its fields; fixed fields must hold their value."""
    out: dict[str, str] = {}
    pos = 0
    for name, width, fixed in fields:
        value = body[pos : pos + width]
        if fixed is not None and value != fixed:
            raise ElQrError("fixed-value", f"{where}: {name} must be {fixed!r}, found {value!r}.")
        out[name] = value
        pos += width
    return out


def _join_fields(values: dict[str, str], fields: tuple[Field, ...]) -> str:
    """The body of an MPN line from its variable fields (fixed ones filled in)."""
    return "".join(values[name] if fixed is None else fixed for name, _, fixed in fields)


def _width(fields: tuple[Field, ...]) -> int:
    return sum(width for _, width, _ in fields)


def mpn_line(body: str) -> str:
    """A printed MPN line: its OCR check digits followed by the body (spec §1)."""
    return ocr.check_digits(body) + body


def crc_input(payload: str) -> str:
    """What the CRC covers: everything before the CRC value, that is up to and
    including the CRC element's tag and length ``6305`` (spec §1 "CRC").

    Takes a whole payload or just its first 250 digits.
    """
    return payload[: LENGTH - crc.DECIMAL_WIDTH]


def _digits_field(value: object, width: int, name: str) -> str:
    if not isinstance(value, str) or len(value) != width or not _is_digits(value):
        raise ElQrError("field", f"{name} must be exactly {width} ASCII digits, got {value!r}.")
    return value


def _int_field(value: object, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ElQrError("field", f"{name} must be an integer from {low} to {high}, got {value!r}.")
    return value


def _date_field(value: object, name: str) -> str:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ElQrError("field", f"{name} must be a date, got {value!r}.")
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _read_date(text: str, name: str) -> dt.date:
    """A yyyymmdd date of tag 62 (spec §1); a date that does not exist is rejected."""
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise ElQrError("date", f"{name} {text!r} is not a valid date (yyyymmdd).") from None


# --- build and parse -------------------------------------------------------------


def build(fields: ElQr) -> str:
    """The 255-digit payload (raises :class:`ElQrError` for a field that does not fit).

    Amount 0–99,999,999,999 yen; codes of the exact widths in ASCII digits; years
    0–9999 (assumed: the spec only gives the width); 期別 0–99; dates as
    :class:`datetime.date`.
    """
    amount = f"{_int_field(fields.amount, 0, MAX_AMOUNT, 'amount'):011d}"
    line1 = _join_fields(
        {"amount": amount, "tax_code": _digits_field(fields.tax_code, 3, "tax_code")},
        MPN_LINE_1,
    )
    line2 = _join_fields(
        {
            "notice_number": _digits_field(fields.notice_number, 20, "notice_number"),
            "check_number": _digits_field(fields.check_number, 6, "check_number"),
            "institution_code": _digits_field(fields.institution_code, 5, "institution_code"),
            "office_code": _digits_field(fields.office_code, 3, "office_code"),
        },
        MPN_LINE_2,
    )
    dates = (
        f"{_int_field(fields.fiscal_year, 0, 9999, 'fiscal_year'):04d}"
        f"{_int_field(fields.tax_year, 0, 9999, 'tax_year'):04d}"
        f"{_int_field(fields.period, 0, 99, 'period'):02d}"
        f"{_date_field(fields.due_date, 'due_date')}"
        f"{_date_field(fields.pay_by, 'pay_by')}"
    )
    merchant = _tlv("00", AGENCY_ID) + _tlv("01", mpn_line(line1) + mpn_line(line2))
    values = {
        "00": FORMAT_VERSION,
        "01": INITIATION,
        "27": merchant,
        "54": amount,
        "62": dates,
        "80": RESERVED_TAG_80,
    }
    body = "".join(_tlv(tag, values[tag]) for tag, _ in TOP_LEVEL_LAYOUT if tag != CRC_TAG)
    head = body + CRC_TAG + f"{crc.DECIMAL_WIDTH:02d}"
    return head + crc.crc_decimal(crc_input(head))


def parse(payload: str) -> ElQr:
    """Read a payload; raises :class:`ElQrError` naming the problem.

    Checks, in this order: length, ASCII digits, every tag with its length in order
    (top level and tag 27), the CRC, fixed values, each MPN line's check digits, the
    amount of tag 54 against the MPN amount, the dates.
    """
    if not isinstance(payload, str) or len(payload) != LENGTH:
        size = len(payload) if isinstance(payload, str) else type(payload).__name__
        raise ElQrError("length", f"An eL-QR payload has {LENGTH} digits, got {size}.")
    if not _is_digits(payload):
        raise ElQrError("digits", "An eL-QR payload holds ASCII digits only.")
    v00, v01, v27, v54, v62, v80, v63 = _read_elements(payload, TOP_LEVEL_LAYOUT, "eL-QR")
    agency, mpn = _read_elements(v27, MERCHANT_LAYOUT, "tag 27")

    expected_crc = crc.crc_decimal(crc_input(payload))
    if v63 != expected_crc:
        raise ElQrError("crc", f"CRC is {v63}, the payload's is {expected_crc}.")

    for name, value, fixed in (
        ("format version (tag 00)", v00, FORMAT_VERSION),
        ("tag 01", v01, INITIATION),
        ("agency (tag 27/00)", agency, AGENCY_ID),
        ("reserved tag 80", v80, RESERVED_TAG_80),
    ):
        if value != fixed:
            raise ElQrError("fixed-value", f"{name} must be {fixed!r}, found {value!r}.")

    width1 = OCR_CHECK_WIDTH + _width(MPN_LINE_1)
    lines = ((mpn[:width1], MPN_LINE_1, "MPN line 1"), (mpn[width1:], MPN_LINE_2, "MPN line 2"))
    parsed: dict[str, str] = {}
    for line, layout, where in lines:
        check, body = line[:OCR_CHECK_WIDTH], line[OCR_CHECK_WIDTH:]
        parsed.update(_split_fields(body, layout, where))
        if ocr.check_digits(body) != check:
            raise ElQrError(
                "check-digit",
                f"{where}: check digits are {check}, the line's are {ocr.check_digits(body)}.",
            )
    if v54 != parsed["amount"]:
        raise ElQrError(
            "amount", f"Amount in tag 54 ({v54}) differs from the MPN amount ({parsed['amount']})."
        )

    dates: dict[str, str] = {}
    pos = 0
    for name, width in DATES_LAYOUT:
        dates[name] = v62[pos : pos + width]
        pos += width
    return ElQr(
        amount=int(v54),
        tax_code=parsed["tax_code"],
        notice_number=parsed["notice_number"],
        check_number=parsed["check_number"],
        institution_code=parsed["institution_code"],
        office_code=parsed["office_code"],
        fiscal_year=int(dates["fiscal_year"]),
        tax_year=int(dates["tax_year"]),
        period=int(dates["period"]),
        due_date=_read_date(dates["due_date"], "due_date (納期限)"),
        pay_by=_read_date(dates["pay_by"], "pay_by (支払期限)"),
    )
