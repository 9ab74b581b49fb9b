"""The two-digit OCR check rule of the eL-QR's MPN lines (ゆうちょ払込票の OCR 規則).

Spec: ``shared/specs/payment-codes.md`` §1 "Check digits of each line". A line is
printed as ``CD1 CD2 body``; :func:`check_digits` returns ``CD1 CD2`` for the body.

Within a line body every single-digit substitution changes the check digits (shown
exhaustively over all weights, digit pairs and residues of the rest of the line;
``tests/payments/test_codes_ocr.py`` checks it again). Adjacent transpositions are
*not* all caught by this rule alone (about 0.2 % of digit/residue combinations slip
through); in the eL-QR the CRC catches those.
"""

from __future__ import annotations

from cityhall.payments.codes import CodeError

#: Weights of CD2 at the even (0-based) positions, advancing at each even position
#: and wrapping 9, 8, …, 2, 9, … (spec §1: "w2 runs 9, 8, 7, …, 2, then 9 again").
CD2_EVEN_WEIGHTS: tuple[int, ...] = (9, 8, 7, 6, 5, 4, 3, 2)
#: Weights of CD1 at the odd (0-based) positions, advancing at each odd position and
#: wrapping 3, 4, …, 9, 2, 3, … (spec §1: "w1 runs 3, 4, …, 9, then 2 again").
CD1_ODD_WEIGHTS: tuple[int, ...] = (3, 4, 5, 6, 7, 8, 9, 2)
#: CD2 is taken modulo 10, CD1 modulo 11 with 10 written as 0 (spec §1).
CD2_MODULUS = 10
CD1_MODULUS = 11
#: Weight of CD2 inside the CD1 sum (spec §1: "+ 2·CD2").
CD2_WEIGHT_IN_CD1 = 2


def check_digit_2(digits: list[int]) -> int:
    """CD2 = (Σ even i: d[i]·w2 + Σ odd i: d[i]) mod 10 (spec §1)."""
    total = 0
    for i, digit in enumerate(digits):
        if i % 2 == 0:
            total += digit * CD2_EVEN_WEIGHTS[(i // 2) % len(CD2_EVEN_WEIGHTS)]
        else:
            total += digit
    return total % CD2_MODULUS


def check_digit_1(digits: list[int], cd2: int) -> int:
    """CD1 = (Σ even i: d[i] + Σ odd i: d[i]·w1 + 2·CD2) mod 11, 10 → 0 (spec §1)."""
    total = CD2_WEIGHT_IN_CD1 * cd2
    for i, digit in enumerate(digits):
        if i % 2 == 0:
            total += digit
        else:
            total += digit * CD1_ODD_WEIGHTS[(i // 2) % len(CD1_ODD_WEIGHTS)]
    return (total % CD1_MODULUS) % 10  # the remainder 10 is printed as 0


def check_digits(body: str) -> str:
    """``CD1 CD2`` for the line body (ASCII digits), as printed before it (spec §1).

    Vector: ``check_digits("0000000000000000003600226000033421101") == "61"``.
    Raises :class:`~cityhall.payments.codes.CodeError` (problem ``digits``) for a body
    that is empty or not all ASCII digits.
    """
    if not body or not (body.isascii() and body.isdigit()):
        raise CodeError("digits", "An OCR line body must be one or more ASCII digits.")
    digits = [int(c) for c in body]
    cd2 = check_digit_2(digits)
    return f"{check_digit_1(digits, cd2)}{cd2}"
