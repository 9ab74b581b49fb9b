"""What a slip shows: plain data, so the renderer needs no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SlipData:
    """Everything printed on one 納付書 (three parts: 領収証書 / 納付書 / 領収済通知書)."""

    notice_number: str  # 案件特定キー (20 digits)
    check_number: str  # 確認番号 (6)
    tax_code: str  # 税目・料金番号 (3)
    institution_code: str  # 共通納税機関コード (5)
    kind_name: str  # e.g. 個人住民税（普通徴収）
    fiscal_year: int  # 賦課年度 (western year)
    period: int  # 期別
    amount_yen: int
    due_date: dt.date  # 納期限
    pay_by: dt.date  # 支払期限 at stores
    payer_name: str
    payer_postal_code: str
    payer_address: str
    charge_reference: str  # 調定番号 (通知書番号)
    elqr_payload: str  # 255 digits
    cvs_barcode: str  # 44 digits, "" when none is printed
    reissue: int
    issued_on: dt.date
    issuer: str  # e.g. 伊賀市長
    contact: str  # e.g. 伊賀市 収納課 0595-22-9620
    account_code: str = ""  # 会計・科目, printed small on the 領収済通知書
