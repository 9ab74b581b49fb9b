"""Payment codes printed on a 納付書, one module per standard (framework-free, typed strictly).

- :mod:`.elqr` — the 255-digit eL-QR (地方税統一QRコード) and the eL番号.
- :mod:`.cvs` — the 44-digit convenience-store barcode (GS1-128, AI 91).
- :mod:`.ocr` — the two-digit OCR check rule of the eL-QR's MPN lines.
- :mod:`.crc` — the eL-QR's CRC-16/CCITT-FALSE written as 5 decimal digits.

The layouts follow ``shared/specs/payment-codes.md``; each rule lives in one named
function so it can be aligned with the official documents.
"""

from __future__ import annotations


class CodeError(ValueError):
    """A payment code that is not valid. ``problem`` names what is wrong (stable slug)."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
