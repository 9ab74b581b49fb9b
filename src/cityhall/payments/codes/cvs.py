"""Convenience-store barcode (料金代理収納, GS1-128 AI 91): 44 digits.

Spec: ``shared/specs/payment-codes.md`` §3; the official text is GS1 Japan's
「GS1-128シンボルによる標準料金代理収納ガイドライン」. Each rule lives in one named
place: :data:`LAYOUT` (positions and widths), :data:`APPLICATION_IDENTIFIER`,
:func:`check_digit` (modulus 10, weights 3/1), :data:`NO_LIMIT` (999999),
:func:`pay_by_text` / :func:`read_pay_by` (YYMMDD and its century),
:data:`AGENT_FILE_PREFIX` (``EAN`` in agent files), :data:`STAMP_FLAGS`.

What the check digit guarantees: every single-digit substitution is caught (3 and 1
are both prime to 10). An adjacent transposition of digits *a*, *b* is caught unless
*a* − *b* = ±5 (the weighted sum changes by 2(*a* − *b*)); transpositions that break
the ``91`` prefix or the date are caught by those checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cityhall.payments.codes import CodeError

LENGTH = 44
MAX_AMOUNT = 999_999

#: GS1 Application Identifier of the 料金代理収納 barcode, positions 1–2 (spec §3).
APPLICATION_IDENTIFIER = "91"
#: Agent files write the barcode as ``EAN`` + 44 digits (spec §4, column バーコード情報).
AGENT_FILE_PREFIX = "EAN"
#: 支払期限 ``999999`` means no limit (spec §3, positions 31–36).
NO_LIMIT = "999999"
#: 印紙フラグ values: ``0`` no revenue stamp (always, for public money), ``1`` stamp
#: needed (private billers' slips; agent files carry it) (spec §3, position 37).
STAMP_FLAGS = ("0", "1")
#: Century of the two-digit year of 支払期限 (assumed: 2000–2099; spec §3 gives YYMMDD).
PAY_BY_CENTURY = 2000

#: The 44 digits, in order: (field, width) (spec §3 table, 1-based positions).
LAYOUT: tuple[tuple[str, int], ...] = (
    ("ai", 2),  # 1–2: "91"
    ("company_code", 6),  # 3–8: 収納企業コード
    ("free_field", 21),  # 9–29: the city's own structure
    ("reissue", 1),  # 30: 再発行区分
    ("pay_by", 6),  # 31–36: 支払期限 YYMMDD or 999999
    ("stamp_flag", 1),  # 37: 印紙フラグ
    ("amount", 6),  # 38–43: yen
    ("check_digit", 1),  # 44
)
#: Weights of the check digit, applied from the right of the 43 digits (spec §3).
CHECK_WEIGHTS = (3, 1)


class CvsError(CodeError):
    """Raised by :func:`parse` and :func:`build`; ``problem`` names what is wrong.

    Problems: ``length``, ``digits``, ``prefix`` (not ``91``), ``check-digit``,
    ``date`` (支払期限 not a date nor 999999), ``fixed-value`` (印紙フラグ not 0/1),
    ``field`` (:func:`build`: a value that does not fit; the message names it).
    """


@dataclass(frozen=True)
class CvsBarcode:
    company_code: str  # 収納企業コード (6)
    free_field: str  # 21 digits, the city's own structure (see :func:`free_field`)
    reissue: int  # 再発行区分 0–9
    pay_by: dt.date | None  # 支払期限; None prints 999999 (no limit)
    amount: int  # yen, 0–999,999
    stamp_flag: str = "0"  # 印紙フラグ, always 0 for public money


def _is_digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` alone also accepts ``"２"`` or ``"²"``)."""
    return text.isascii() and text.isdigit()


def free_field(*parts: str) -> str:
    """The 21-digit free field from the city's parts, padded on the right with zeros
    (spec §3: "pad with zeros"; which side is assumed: the right, after the parts).

    The structure itself (会計/科目 + 調定番号 + 期別 …) is the notices service's;
    this only joins and pads. Raises :class:`CvsError` (``field``) for non-digits or
    more than 21 digits.
    """
    text = "".join(parts)
    if (text and not _is_digits(text)) or len(text) > 21:
        raise CvsError("field", f"free field parts must be at most 21 ASCII digits, got {text!r}.")
    return text.ljust(21, "0")


def check_digit(digits43: str) -> int:
    """Modulus 10, weights 3/1 from the right (the ``91`` included) (spec §3).

    Numbering the 43 digits from the right starting at 1, C = 3 × (sum of the odd
    positions) + (sum of the even positions); CD = (10 − C mod 10) mod 10.
    """
    if len(digits43) != LENGTH - 1 or not _is_digits(digits43):
        raise CvsError("digits", f"check_digit takes {LENGTH - 1} ASCII digits, got {digits43!r}.")
    total = sum(
        int(c) * CHECK_WEIGHTS[i % len(CHECK_WEIGHTS)] for i, c in enumerate(reversed(digits43))
    )
    return (10 - total % 10) % 10


def pay_by_text(pay_by: dt.date | None) -> str:
    """支払期限 as written: YYMMDD, or :data:`NO_LIMIT` for ``None`` (spec §3)."""
    if pay_by is None:
        return NO_LIMIT
    if isinstance(pay_by, dt.datetime) or not isinstance(pay_by, dt.date):
        raise CvsError("field", f"pay_by must be a date or None, got {pay_by!r}.")
    if not PAY_BY_CENTURY <= pay_by.year < PAY_BY_CENTURY + 100:
        raise CvsError("field", f"pay_by {pay_by} cannot be written as YYMMDD.")
    return f"{pay_by.year % 100:02d}{pay_by.month:02d}{pay_by.day:02d}"


def read_pay_by(text: str) -> dt.date | None:
    """支払期限 from YYMMDD (century :data:`PAY_BY_CENTURY`); ``999999`` → ``None``."""
    if text == NO_LIMIT:
        return None
    try:
        return dt.date(PAY_BY_CENTURY + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise CvsError("date", f"pay_by {text!r} is neither YYMMDD nor {NO_LIMIT}.") from None


def _digits_field(value: object, width: int, name: str) -> str:
    if not isinstance(value, str) or len(value) != width or not _is_digits(value):
        raise CvsError("field", f"{name} must be exactly {width} ASCII digits, got {value!r}.")
    return value


def _int_field(value: object, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise CvsError("field", f"{name} must be an integer from 0 to {high}, got {value!r}.")
    return value


def build(barcode: CvsBarcode) -> str:
    """The 44 digits, starting ``91`` and ending with the check digit.

    Raises :class:`CvsError` (``field``) for a value that does not fit: codes of the
    wrong width or not ASCII digits, reissue outside 0–9, an amount outside
    0–999,999, a 支払期限 outside 2000–2099, a 印紙フラグ other than 0/1. Whether the
    amount is within the agent's limit (300,000 yen by default) is the caller's rule.
    """
    if barcode.stamp_flag not in STAMP_FLAGS:
        raise CvsError(
            "field", f"stamp_flag must be one of {STAMP_FLAGS}, got {barcode.stamp_flag!r}."
        )
    values = {
        "ai": APPLICATION_IDENTIFIER,
        "company_code": _digits_field(barcode.company_code, 6, "company_code"),
        "free_field": _digits_field(barcode.free_field, 21, "free_field"),
        "reissue": str(_int_field(barcode.reissue, 9, "reissue")),
        "pay_by": pay_by_text(barcode.pay_by),
        "stamp_flag": barcode.stamp_flag,
        "amount": f"{_int_field(barcode.amount, MAX_AMOUNT, 'amount'):06d}",
    }
    digits43 = "".join(values[name] for name, _ in LAYOUT if name != "check_digit")
    return digits43 + str(check_digit(digits43))


def parse(code: str) -> CvsBarcode:
    """Read 44 digits, or ``EAN`` + 44 digits as agent files write them.

    Checks, in order: the length, ASCII digits, the ``91`` prefix, the check digit,
    the 印紙フラグ, the 支払期限 (YYMMDD or 999999).
    """
    if not isinstance(code, str):
        raise CvsError("digits", f"A barcode is a string of digits, got {type(code).__name__}.")
    digits = code[len(AGENT_FILE_PREFIX) :] if code.startswith(AGENT_FILE_PREFIX) else code
    if len(digits) != LENGTH:
        raise CvsError(
            "length", f"A convenience-store barcode has {LENGTH} digits, got {len(digits)}."
        )
    if not _is_digits(digits):
        raise CvsError("digits", "A convenience-store barcode holds ASCII digits only.")
    fields: dict[str, str] = {}
    pos = 0
    for name, width in LAYOUT:
        fields[name] = digits[pos : pos + width]
        pos += width
    if fields["ai"] != APPLICATION_IDENTIFIER:
        raise CvsError(
            "prefix", f"The barcode must start with {APPLICATION_IDENTIFIER}, not {fields['ai']}."
        )
    expected = check_digit(digits[:-1])
    if int(fields["check_digit"]) != expected:
        raise CvsError(
            "check-digit", f"Check digit is {fields['check_digit']}, the barcode's is {expected}."
        )
    if fields["stamp_flag"] not in STAMP_FLAGS:
        raise CvsError("fixed-value", f"印紙フラグ must be 0 or 1, found {fields['stamp_flag']}.")
    return CvsBarcode(
        company_code=fields["company_code"],
        free_field=fields["free_field"],
        reissue=int(fields["reissue"]),
        pay_by=read_pay_by(fields["pay_by"]),
        amount=int(fields["amount"]),
        stamp_flag=fields["stamp_flag"],
    )
