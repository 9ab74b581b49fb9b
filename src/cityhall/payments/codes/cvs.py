"""Convenience-store barcode (料金代理収納, GS1-128 AI 91): 44 digits. TO BE IMPLEMENTED."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cityhall.payments.codes import CodeError

LENGTH = 44
MAX_AMOUNT = 999_999


class CvsError(CodeError):
    """Raised by :func:`parse` and :func:`build`; ``problem`` names what is wrong."""


@dataclass(frozen=True)
class CvsBarcode:
    company_code: str  # 収納企業コード (6)
    free_field: str  # 21 digits, the city's own structure (see :func:`free_field`)
    reissue: int  # 再発行区分 0–9
    pay_by: dt.date | None  # 支払期限; None prints 999999 (no limit)
    amount: int  # yen, 0–999,999
    stamp_flag: str = "0"  # 印紙フラグ, always 0 for public money


def check_digit(digits43: str) -> int:
    """Modulus 10, weights 3/1 from the right (the ``91`` included)."""
    raise NotImplementedError


def build(barcode: CvsBarcode) -> str:
    """The 44 digits, starting ``91`` and ending with the check digit."""
    raise NotImplementedError


def parse(code: str) -> CvsBarcode:
    """Read 44 digits, or ``EAN`` + 44 digits as agent files write them."""
    raise NotImplementedError
