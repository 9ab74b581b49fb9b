"""The eL-QR's CRC: CRC-16/CCITT-FALSE over ASCII, written as 5 decimal digits."""

from __future__ import annotations


def crc16_ccitt_false(data: bytes) -> int:
    """Poly 0x1021, init 0xFFFF, no reflection, no final XOR. TO BE IMPLEMENTED."""
    raise NotImplementedError


def crc_decimal(text: str) -> str:
    """The CRC of ``text`` (ASCII) as 5 decimal digits."""
    return f"{crc16_ccitt_false(text.encode('ascii')):05d}"
