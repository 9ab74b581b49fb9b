"""eL-QR (地方税統一QRコード): build and parse the 255-digit payload. TO BE IMPLEMENTED."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cityhall.payments.codes import CodeError

LENGTH = 255
AGENCY_ID = "13800"  # 地方税共同機構


class ElQrError(CodeError):
    """Raised by :func:`parse` (problem: length, digits, tag, check-digit, crc, amount, date)."""


@dataclass(frozen=True)
class ElNumber:
    """eL番号: the four items a payer types when the QR cannot be scanned."""

    institution_code: str  # 共通納税機関コード (5)
    notice_number: str  # 案件特定キー (20)
    check_number: str  # 確認番号 (6)
    tax_code: str  # 税目・料金番号 (3)

    def formatted(self) -> str:
        """Grouped for typing, e.g. ``24216 0000-0000-2026-0000-0001 123456 999``."""
        raise NotImplementedError


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


def build(fields: ElQr) -> str:
    """The 255-digit payload (raises :class:`ElQrError` for a field that does not fit)."""
    raise NotImplementedError


def parse(payload: str) -> ElQr:
    """Read a payload; raises :class:`ElQrError` naming the problem."""
    raise NotImplementedError
