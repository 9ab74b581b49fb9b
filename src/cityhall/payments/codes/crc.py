"""The eL-QR's CRC: CRC-16/CCITT-FALSE over ASCII, written as 5 decimal digits.

Spec: ``shared/specs/payment-codes.md`` §1 "CRC". The parameters are the catalogued
CRC-16/CCITT-FALSE (also called CRC-16/IBM-3740): width 16, poly 0x1021, init 0xFFFF,
refin/refout false, xorout 0x0000, check value 0x29B1 (= 10673) for ``"123456789"``.
"""

from __future__ import annotations

import binascii

#: Generator polynomial x^16 + x^12 + x^5 + 1 (spec §1 "CRC").
POLYNOMIAL = 0x1021
#: Initial register value (spec §1 "CRC").
INITIAL = 0xFFFF
#: Digits of the decimal form written into the eL-QR's tag 63 (spec §1 "CRC").
DECIMAL_WIDTH = 5


def _make_table() -> tuple[int, ...]:
    """The 256-entry lookup table for :data:`POLYNOMIAL`, MSB first (no reflection)."""
    table: list[int] = []
    for byte in range(256):
        register = byte << 8
        for _ in range(8):
            register = ((register << 1) ^ POLYNOMIAL) if register & 0x8000 else register << 1
            register &= 0xFFFF
        table.append(register)
    return tuple(table)


_TABLE = _make_table()


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (spec §1 "CRC").

    Poly 0x1021, init 0xFFFF, no reflection, no final XOR.
    ``crc16_ccitt_false(b"123456789") == 10673`` (0x29B1). The standard library's
    ``binascii.crc_hqx`` computes exactly this CRC (the XMODEM polynomial, MSB first)
    in C when started from :data:`INITIAL`; :func:`crc16_table` is the same rule
    written out, and the tests hold the two equal.
    """
    return binascii.crc_hqx(data, INITIAL)


def crc16_table(data: bytes) -> int:
    """The same CRC computed table-driven in Python, one byte at a time (the reference)."""
    register = INITIAL
    for byte in data:
        register = ((register << 8) & 0xFFFF) ^ _TABLE[(register >> 8) ^ byte]
    return register


def crc_decimal(text: str) -> str:
    """The CRC of ``text`` (ASCII) as 5 decimal digits (spec §1 "CRC": "written as a
    5-digit decimal number", zero-padded: 0 → ``00000``, 65535 → ``65535``)."""
    return f"{crc16_ccitt_false(text.encode('ascii')):0{DECIMAL_WIDTH}d}"
