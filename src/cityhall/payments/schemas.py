"""Shapes of the payments JSON API for residents (``/me/payments…``).

Amounts are integer yen; dates are ISO dates (``YYYY-MM-DD``).
"""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field


class InstallmentOut(Schema):
    period: int = Field(description="期別: 1, 2, … within the charge.")
    amount_yen: int
    due_date: dt.date = Field(description="納期限.")
    status: str = Field(
        description="`open`, `provisional` (paid at a store, being confirmed) or `paid`."
    )
    overdue: bool = Field(description="Open and past its due date (in the city's time zone).")
    paid_yen: int
    paid_on: dt.date | None = None
    paid_channel: str | None = Field(
        None, description="`cvs`, `elqr`, `debit`, `postal`, `online` or `counter`."
    )
    paid_channel_label: str | None = Field(None, description="In the language of the request.")
    notice_number: str | None = Field(
        None,
        description="The slip to pay with (the valid one, 20 digits); the paid slip once paid; "
        "null while no slip is issued.",
    )


class ChargeOut(Schema):
    kind: str = Field(description="Code of the kind of public money, e.g. `kojin-juminzei`.")
    kind_name: str = Field(description="In the language of the request (Japanese when missing).")
    fiscal_year: int = Field(description="賦課年度 (western year).")
    tax_year: int = Field(description="課税年度 (western year).")
    reference: str = Field(description="調定番号 (the number on the notice).")
    status: str = Field(description="`open` or `paid`.")
    total_yen: int
    open_yen: int = Field(description="What is still to pay (provisional payments count as paid).")
    installments: list[InstallmentOut]


class ElNumberOut(Schema):
    """eL番号: the four items typed when the eL-QR cannot be scanned (also Pay-easy)."""

    institution_code: str = Field(
        description="共通納税機関コード (5 digits; Pay-easy 収納機関番号)."
    )
    notice_number: str = Field(description="案件特定キー (20 digits; Pay-easy 納付番号).")
    check_number: str = Field(description="確認番号 (6 digits).")
    tax_code: str = Field(description="税目・料金番号 (3 digits; Pay-easy 納付区分).")


class NoticeOut(Schema):
    notice_number: str
    status: str = Field(
        description="`active` (pay with it), `provisional` (paid at a store, being confirmed), "
        "`paid`, `superseded` (replaced by a reissued slip: see `replaced_by`) or `cancelled`."
    )
    payable: bool = Field(description="This slip can be paid now (`status` is `active`).")
    amount_yen: int
    due_date: dt.date = Field(description="納期限.")
    pay_by: dt.date = Field(description="支払期限: the last day a store accepts the barcode.")
    overdue: bool
    kind: str
    kind_name: str
    fiscal_year: int
    period: int
    reference: str = Field(description="調定番号 of the charge.")
    elqr_payload: str | None = Field(
        None,
        description="The 255-digit eL-QR content (QR version 6, level M, numeric); null when "
        "the slip is not payable.",
    )
    el_number: ElNumberOut
    cvs_barcode: str | None = Field(
        None,
        description="The 44 digits of the convenience-store GS1-128 barcode (AI 91), or null "
        "when the slip has none or is not payable. Stores scan the printed barcode.",
    )
    online_payment: bool = Field(
        description="It can be paid by card or wallet online now (`POST` to `pay_url`)."
    )
    pay_url: str | None = Field(None, description="Form address for the online payment.")
    pdf_url: str | None = Field(None, description="The printable slip (PDF), while payable.")
    replaced_by: str | None = Field(
        None, description="For a superseded slip: the number of the slip that replaced it."
    )
