"""The two-digit OCR check rule of the eL-QR's MPN lines (ゆうちょ払込票の OCR 規則)."""

from __future__ import annotations


def check_digits(body: str) -> str:
    """``CD1 CD2`` for the line body (digits), as printed before it. TO BE IMPLEMENTED."""
    raise NotImplementedError
