"""The two small check rules on their own: the OCR check digits and the CRC.

Spec: shared/specs/payment-codes.md §1 ("Check digits of each line", "CRC");
code: cityhall.payments.codes.ocr and cityhall.payments.codes.crc.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhall.payments.codes import CodeError, crc, ocr

# The spec's vector, and the four MPN lines of the spec's worked example and of two real
# payloads (see test_codes.py for their source): (printed check digits, body).
OCR_LINES = [
    ("61", "0000000000000000003600226000033421101"),
    ("05", "0000000000000000012345213800099900000"),
    ("71", "000000002026000000011234560242160000000000"),
    ("38", "0000000000000000039500213800012700000"),
    ("82", "000002024010101043487782840440000400000000"),
    ("81", "0000000000000000043500213800012700000"),
    ("29", "000002024010101043476054970440000400000000"),
]

bodies = st.text(alphabet="0123456789", min_size=1, max_size=60)


def cd2_reference(body: str) -> int:
    """CD2 written straight from the spec's sentence, as an independent reading."""
    w2 = [9, 8, 7, 6, 5, 4, 3, 2]
    even = sum(int(body[i]) * w2[k % 8] for k, i in enumerate(range(0, len(body), 2)))
    odd = sum(int(body[i]) for i in range(1, len(body), 2))
    return (even + odd) % 10


def cd1_reference(body: str, cd2: int) -> int:
    w1 = [3, 4, 5, 6, 7, 8, 9, 2]
    even = sum(int(body[i]) for i in range(0, len(body), 2))
    odd = sum(int(body[i]) * w1[k % 8] for k, i in enumerate(range(1, len(body), 2)))
    value = (even + odd + 2 * cd2) % 11
    return 0 if value == 10 else value


@pytest.mark.parametrize(("check", "body"), OCR_LINES)
def test_ocr_vectors(check: str, body: str) -> None:
    assert ocr.check_digits(body) == check


@given(bodies)
@settings(max_examples=200)
def test_ocr_agrees_with_the_spec_sentence(body: str) -> None:
    cd2 = cd2_reference(body)
    assert ocr.check_digits(body) == f"{cd1_reference(body, cd2)}{cd2}"


@given(bodies)
@settings(max_examples=100)
def test_ocr_check_digits_are_two_ascii_digits(body: str) -> None:
    check = ocr.check_digits(body)
    assert len(check) == 2 and check.isascii() and check.isdigit()


@given(st.integers(1, 60).flatmap(lambda n: st.tuples(*[st.integers(0, 9)] * n)), st.data())
@settings(max_examples=100)
def test_ocr_cd2_is_linear_mod_10(first: tuple[int, ...], data: st.DataObject) -> None:
    """CD2 is a weighted sum mod 10: CD2(x ⊕ y) = CD2(x) + CD2(y) (digit-wise mod 10)."""
    second = data.draw(st.tuples(*[st.integers(0, 9)] * len(first)))
    x = "".join(map(str, first))
    y = "".join(map(str, second))
    s = "".join(str((a + b) % 10) for a, b in zip(first, second, strict=True))
    cd2 = [int(ocr.check_digits(t)[1]) for t in (x, y, s)]
    assert cd2[2] == (cd2[0] + cd2[1]) % 10


@given(
    st.sampled_from([37, 42]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
    st.data(),
)
@settings(max_examples=300)
def test_ocr_catches_every_single_substitution_in_a_line(body: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(body) - 1))
    digit = str((int(body[position]) + data.draw(st.integers(1, 9))) % 10)
    corrupted = body[:position] + digit + body[position + 1 :]
    assert ocr.check_digits(corrupted) != ocr.check_digits(body)


def test_ocr_catches_every_single_substitution_of_the_vectors() -> None:
    for _, body in OCR_LINES:
        check = ocr.check_digits(body)
        for i, c in enumerate(body):
            for d in "0123456789":
                if d != c:
                    assert ocr.check_digits(body[:i] + d + body[i + 1 :]) != check


@pytest.mark.parametrize("body", ["", "12a", "１２３", "12 3", "-1"])
def test_ocr_rejects_non_digits(body: str) -> None:
    with pytest.raises(CodeError) as caught:
        ocr.check_digits(body)
    assert caught.value.problem == "digits"


# --- CRC ---------------------------------------------------------------------------------


def crc_bitwise(data: bytes) -> int:
    """CRC-16/CCITT-FALSE one bit at a time, as the textbook writes it."""
    register = 0xFFFF
    for byte in data:
        register ^= byte << 8
        for _ in range(8):
            register = (register << 1) ^ 0x1021 if register & 0x8000 else register << 1
            register &= 0xFFFF
    return register


def test_crc_check_value() -> None:
    assert crc.crc16_ccitt_false(b"123456789") == 10673 == 0x29B1
    assert crc.crc_decimal("123456789") == "10673"


def test_crc_of_nothing_is_the_initial_value_zero_padded() -> None:
    assert crc.crc16_ccitt_false(b"") == 0xFFFF
    assert crc.crc_decimal("") == "65535"


def test_crc_decimal_is_zero_padded() -> None:
    # find a short digit string whose CRC is below 10000, and check its padding
    text = next(str(n) for n in range(100_000) if crc.crc16_ccitt_false(str(n).encode()) < 10_000)
    value = crc.crc_decimal(text)
    assert len(value) == 5 and value.startswith("0") and int(value) < 10_000


@given(st.binary(max_size=300))
@settings(max_examples=200)
def test_crc_table_matches_the_bitwise_definition(data: bytes) -> None:
    assert crc.crc16_ccitt_false(data) == crc_bitwise(data) == crc.crc16_table(data)


@given(st.binary(max_size=300))
@settings(max_examples=100)
def test_crc_appended_big_endian_leaves_zero_residue(data: bytes) -> None:
    value = crc.crc16_ccitt_false(data)
    assert crc.crc16_ccitt_false(data + value.to_bytes(2, "big")) == 0


@given(st.integers(0, 200).flatmap(lambda n: st.tuples(*[st.binary(min_size=n, max_size=n)] * 3)))
@settings(max_examples=100)
def test_crc_is_affine_over_xor(triple: tuple[bytes, bytes, bytes]) -> None:
    """For equal lengths: crc(a) ^ crc(b) ^ crc(c) == crc(a ^ b ^ c)."""
    a, b, c = triple
    mixed = bytes(x ^ y ^ z for x, y, z in zip(a, b, c, strict=True))
    assert crc.crc16_ccitt_false(a) ^ crc.crc16_ccitt_false(b) ^ crc.crc16_ccitt_false(
        c
    ) == crc.crc16_ccitt_false(mixed)


@given(st.text("0123456789", min_size=1, max_size=255), st.data())
@settings(max_examples=300)
def test_crc_catches_any_changed_or_swapped_digit(text: str, data: st.DataObject) -> None:
    """Bursts of up to 16 bits are always detected: one changed byte, two swapped bytes."""
    i = data.draw(st.integers(0, len(text) - 1))
    changed = text[:i] + str((int(text[i]) + data.draw(st.integers(1, 9))) % 10) + text[i + 1 :]
    assert crc.crc_decimal(changed) != crc.crc_decimal(text)
    if i + 1 < len(text) and text[i] != text[i + 1]:
        swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        assert crc.crc_decimal(swapped) != crc.crc_decimal(text)
