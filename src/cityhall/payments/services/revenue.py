"""Export of booked revenue (歳入) for the finance system: a CSV of FINAL payments.

One row per ``FINAL`` payment whose 振込日 (``booked_on``) lies in the range, ordered by
account, 振込日 and payment id, then one total row per account code. Columns:

==  ================  =====================================================
 #  header            value
==  ================  =====================================================
 1  振込日            ``booked_on`` YYYY-MM-DD (totals: ``合計``)
 2  収納日            ``paid_on`` YYYY-MM-DD
 3  会計・科目        ``PaymentKind.account_code``
 4  税目・料金番号    ``PaymentKind.tax_code``
 5  種類コード        ``PaymentKind.code``
 6  賦課年度          ``Charge.fiscal_year``
 7  期別              ``Installment.period``
 8  調定番号          ``Charge.reference``
 9  金額              integer yen
10  収納チャネル      ``cvs`` ``elqr`` ``debit`` ``postal`` ``online`` ``counter``
11  店舗コード        the store or bank code, if any
12  納付番号          the slip's 案件特定キー, if any
13  件数              1 on a payment row; the number of payments on a total row
==  ================  =====================================================

UTF-8 with a BOM (Excel opens it right) or CP932 for older finance systems; CR LF line
ends. Every export is audited (``payments.revenue_exported``) with its range and totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.http import HttpRequest

from cityhall.core import audit
from cityhall.payments.models import Payment

ENCODINGS = {"utf-8": "utf-8-sig", "cp932": "cp932"}
HEADER = (
    "振込日",
    "収納日",
    "会計・科目",
    "税目・料金番号",
    "種類コード",
    "賦課年度",
    "期別",
    "調定番号",
    "金額",
    "収納チャネル",
    "店舗コード",
    "納付番号",
    "件数",
)
TOTAL = "合計"


def booked(date_from: dt.date, date_to: dt.date) -> Any:
    return (
        Payment.objects.filter(
            state=Payment.State.FINAL, booked_on__gte=date_from, booked_on__lte=date_to
        )
        .order_by("installment__charge__kind__account_code", "booked_on", "id")
        .values_list(
            "booked_on",
            "paid_on",
            "installment__charge__kind__account_code",
            "installment__charge__kind__tax_code",
            "installment__charge__kind__code",
            "installment__charge__fiscal_year",
            "installment__period",
            "installment__charge__reference",
            "amount_yen",
            "channel",
            "store_code",
            "notice__notice_number",
        )
    )


def export_revenue(
    *,
    date_from: dt.date,
    date_to: dt.date,
    encoding: str = "utf-8",
    actor: Any,
    request: HttpRequest | None = None,
) -> bytes:
    """The CSV described in the module's docstring, as bytes."""
    if encoding not in ENCODINGS:
        raise ValueError("encoding must be utf-8 or cp932")
    if date_to < date_from:
        raise ValueError("date_to is before date_from")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    totals: dict[str, list[int]] = {}
    rows = 0
    for row in booked(date_from, date_to).iterator(chunk_size=5000):
        b_on, p_on, account, tax, kind, year, period, ref, amount, channel, store, number = row
        writer.writerow(
            [
                b_on.isoformat(),
                p_on.isoformat(),
                account or "",
                tax or "",
                kind or "",
                year or "",
                period or "",
                ref or "",
                amount,
                channel,
                store,
                number or "",
                1,
            ]
        )
        total = totals.setdefault(account or "", [0, 0])
        total[0] += int(amount)
        total[1] += 1
        rows += 1
    for account, (amount, count) in sorted(totals.items()):
        writer.writerow([TOTAL, "", account, "", "", "", "", "", amount, "", "", "", count])
    audit.record(
        "payments.revenue_exported",
        request=request,
        actor=actor,
        target_type="payments.payment",
        details={
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "encoding": encoding,
            "rows": rows,
            "totals": {k: v[0] for k, v in totals.items()},
        },
    )
    return out.getvalue().encode(ENCODINGS[encoding], errors="replace")
