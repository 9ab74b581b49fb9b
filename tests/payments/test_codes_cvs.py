"""Convenience-store barcode (GS1-128, AI 91, 44 digits): vectors, round trips, corruption.

Layout: shared/specs/payment-codes.md §3; code: cityhall.payments.codes.cvs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cityhall.payments.codes import cvs
from cityhall.payments.codes.cvs import CvsBarcode, CvsError

SPEC_EXAMPLE = "91912345242160000000000012345026103100123452"
SPEC_EXAMPLE_FIELDS = CvsBarcode(
    company_code="912345",
    free_field="242160000000000012345",
    reissue=0,
    pay_by=dt.date(2026, 10, 31),
    amount=12_345,
    stamp_flag="0",
)

# Agent-file barcodes from the public repository shimoning/dsk-cvs (a client for the
# DSK 電算システム collection agent), tests/data/csv/test.csv, column バーコード情報, with
# the 金額 and 印紙フラグ columns of the same rows. Their check digits follow the rule and
# the amounts/stamp flags agree with the columns. (The repository's syuno.csv rows have
# scrambled digits whose check digits do not hold, so they are not used.)
AGENT_FILE_ROWS = [
    ("EAN91929023252070000010123499900199999900106050", 10_605, "0", 1),
    ("EAN91929023252070000010123499900299999900154357", 15_435, "0", 2),
    ("EAN91929023252070000010123499900399999911066327", 106_632, "1", 3),
    ("EAN91929023252070000010123499900899999910600008", 60_000, "1", 8),
    ("EAN91929023252070000010123499901099999900350000", 35_000, "0", 0),
]


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


barcodes = st.builds(
    CvsBarcode,
    company_code=digits(6),
    free_field=digits(21),
    reissue=st.integers(0, 9),
    pay_by=st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    amount=st.integers(0, cvs.MAX_AMOUNT),
    stamp_flag=st.sampled_from(cvs.STAMP_FLAGS),
)


def problem_of(code: str) -> str:
    with pytest.raises(CvsError) as caught:
        cvs.parse(code)
    return caught.value.problem


def with_check_digit(digits43: str) -> str:
    return digits43 + str(cvs.check_digit(digits43))


# --- vectors ---------------------------------------------------------------------------


def test_spec_example() -> None:
    assert cvs.build(SPEC_EXAMPLE_FIELDS) == SPEC_EXAMPLE
    assert cvs.parse(SPEC_EXAMPLE) == SPEC_EXAMPLE_FIELDS
    assert cvs.parse("EAN" + SPEC_EXAMPLE) == SPEC_EXAMPLE_FIELDS
    assert cvs.check_digit(SPEC_EXAMPLE[:43]) == 2


@pytest.mark.parametrize(("code", "amount", "stamp", "reissue"), AGENT_FILE_ROWS)
def test_agent_file_barcodes(code: str, amount: int, stamp: str, reissue: int) -> None:
    barcode = cvs.parse(code)
    assert (barcode.amount, barcode.stamp_flag, barcode.reissue) == (amount, stamp, reissue)
    assert barcode.company_code == "929023"
    assert barcode.pay_by is None  # 999999: no limit
    assert cvs.build(barcode) == code.removeprefix("EAN")


def test_check_digit_by_hand() -> None:
    """The 3/1 weights from the right, worked out for the spec example."""
    body = SPEC_EXAMPLE[:43]
    odd = sum(int(c) for c in body[::-1][0::2])  # positions 1, 3, 5 … from the right
    even = sum(int(c) for c in body[::-1][1::2])
    assert (10 - (3 * odd + even) % 10) % 10 == cvs.check_digit(body) == 2


def test_no_limit_is_999999() -> None:
    code = cvs.build(replace(SPEC_EXAMPLE_FIELDS, pay_by=None))
    assert code[30:36] == "999999"
    assert cvs.parse(code).pay_by is None


def test_layout_positions() -> None:
    code = cvs.build(
        CvsBarcode("123456", "7" * 21, 4, dt.date(2027, 3, 9), 300_000, stamp_flag="0")
    )
    assert code[0:2] == "91"
    assert code[2:8] == "123456"
    assert code[8:29] == "7" * 21
    assert code[29] == "4"
    assert code[30:36] == "270309"
    assert code[36] == "0"
    assert code[37:43] == "300000"
    assert sum(width for _, width in cvs.LAYOUT) == 44


def test_free_field_helper_pads_on_the_right() -> None:
    assert cvs.free_field("24216", "0001", "01") == "24216000101" + "0" * 10
    assert cvs.free_field() == "0" * 21
    assert cvs.free_field("1" * 21) == "1" * 21
    with pytest.raises(CvsError):
        cvs.free_field("1" * 22)
    with pytest.raises(CvsError):
        cvs.free_field("12a")


# --- round trips -------------------------------------------------------------------------


@given(barcodes)
@settings(max_examples=200)
def test_build_then_parse_round_trips(barcode: CvsBarcode) -> None:
    code = cvs.build(barcode)
    assert len(code) == 44 and code.startswith("91") and code.isdigit()
    assert cvs.parse(code) == barcode
    assert cvs.parse("EAN" + code) == barcode
    assert cvs.build(cvs.parse(code)) == code


@given(st.text(max_size=60))
@settings(max_examples=100)
def test_any_text_either_parses_and_rebuilds_or_raises_cvs_error(text: str) -> None:
    try:
        barcode = cvs.parse(text)
    except CvsError:
        return
    assert cvs.build(barcode) == text.removeprefix("EAN")


# --- corruption ----------------------------------------------------------------------------


def test_every_single_digit_substitution_of_the_vectors_is_caught() -> None:
    codes = [SPEC_EXAMPLE] + [row[0].removeprefix("EAN") for row in AGENT_FILE_ROWS]
    for code in codes:
        for i, c in enumerate(code):
            for d in "0123456789":
                if d != c:
                    with pytest.raises(CvsError):
                        cvs.parse(code[:i] + d + code[i + 1 :])


@given(barcodes, st.integers(0, 43), st.integers(1, 9))
@settings(max_examples=300)
def test_any_single_digit_substitution_is_caught(
    barcode: CvsBarcode, position: int, delta: int
) -> None:
    code = cvs.build(barcode)
    digit = str((int(code[position]) + delta) % 10)
    with pytest.raises(CvsError):
        cvs.parse(code[:position] + digit + code[position + 1 :])


@given(barcodes, st.integers(0, 42))
@settings(max_examples=300)
def test_adjacent_transposition_is_caught_unless_the_digits_differ_by_5(
    barcode: CvsBarcode, position: int
) -> None:
    """The mod-10 3/1 rule guarantees it when |a − b| ∉ {0, 5} (sum changes by 2(a − b))."""
    code = cvs.build(barcode)
    a, b = code[position], code[position + 1]
    assume(a != b and abs(int(a) - int(b)) != 5)
    swapped = code[:position] + b + a + code[position + 2 :]
    with pytest.raises(CvsError):
        cvs.parse(swapped)


def test_transposition_of_digits_5_apart_is_the_rules_known_gap() -> None:
    """Documented limit: swapping neighbours that differ by 5 keeps the check digit."""
    code = cvs.build(replace(SPEC_EXAMPLE_FIELDS, free_field="05" + "0" * 19))
    swapped = code[:8] + "50" + code[10:]
    assert cvs.parse(swapped).free_field == "50" + "0" * 19  # accepted, but a different slip


# --- each problem is named -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", SPEC_EXAMPLE[:-1], SPEC_EXAMPLE + "0", "EAN" + SPEC_EXAMPLE[:-1], "EAN"]
)
def test_wrong_length(text: str) -> None:
    assert problem_of(text) == "length"


@pytest.mark.parametrize(
    "text", ["9" * 43 + "a", "９" + SPEC_EXAMPLE[1:], SPEC_EXAMPLE[:20] + " " + SPEC_EXAMPLE[21:]]
)
def test_non_digits(text: str) -> None:
    assert problem_of(text) == "digits"


def test_only_the_exact_ean_prefix_is_taken_off() -> None:
    assert problem_of("ean" + SPEC_EXAMPLE) == "length"
    assert problem_of("EAN " + SPEC_EXAMPLE) == "length"
    assert problem_of("EAN" + SPEC_EXAMPLE[:-1] + "x") == "digits"


def test_prefix_must_be_91() -> None:
    assert problem_of(with_check_digit("92" + SPEC_EXAMPLE[2:43])) == "prefix"
    assert problem_of(with_check_digit("19" + SPEC_EXAMPLE[2:43])) == "prefix"


def test_bad_check_digit() -> None:
    assert problem_of(SPEC_EXAMPLE[:43] + "3") == "check-digit"


@pytest.mark.parametrize("yymmdd", ["261331", "260229", "000000", "261032", "999998"])
def test_bad_date(yymmdd: str) -> None:
    assert problem_of(with_check_digit(SPEC_EXAMPLE[:30] + yymmdd + SPEC_EXAMPLE[36:43])) == "date"


def test_stamp_flag_other_than_0_or_1() -> None:
    assert problem_of(with_check_digit(SPEC_EXAMPLE[:36] + "2" + SPEC_EXAMPLE[37:43])) == (
        "fixed-value"
    )


def test_check_digit_needs_43_digits() -> None:
    for bad in ["", SPEC_EXAMPLE, SPEC_EXAMPLE[:42], "x" * 43]:
        with pytest.raises(CvsError):
            cvs.check_digit(bad)


# --- build refuses fields that do not fit ---------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 1_000_000},
        {"amount": -1},
        {"amount": False},
        {"company_code": "12345"},
        {"company_code": "12345a"},
        {"free_field": "0" * 20},
        {"free_field": "0" * 22},
        {"reissue": 10},
        {"reissue": -1},
        {"pay_by": dt.date(1999, 12, 31)},
        {"pay_by": dt.date(2100, 1, 1)},
        {"pay_by": dt.datetime(2026, 10, 31, 9, 0)},
        {"stamp_flag": "2"},
        {"stamp_flag": ""},
    ],
)
def test_build_refuses_fields_that_do_not_fit(change: dict[str, object]) -> None:
    barcode = replace(SPEC_EXAMPLE_FIELDS, **change)  # type: ignore[arg-type]
    with pytest.raises(CvsError) as caught:
        cvs.build(barcode)
    assert caught.value.problem == "field"


def test_build_extremes_fit() -> None:
    top = replace(
        SPEC_EXAMPLE_FIELDS, amount=cvs.MAX_AMOUNT, reissue=9, pay_by=dt.date(2099, 12, 31)
    )
    assert cvs.parse(cvs.build(top)) == top
    bottom = replace(SPEC_EXAMPLE_FIELDS, amount=0, reissue=0, pay_by=dt.date(2000, 1, 1))
    assert cvs.parse(cvs.build(bottom)) == bottom
