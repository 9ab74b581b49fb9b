"""Builders for the reconciliation tests: real collection files made in the test (CP932
agent CSV, 全銀 120-byte records, the assumed IFS CSV) and the slips they pay."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cityhall.payments.codes import cvs
from cityhall.payments.models import PaymentNotice
from cityhall.payments.reconciliation import agent_csv, ifs, zengin
from tests.payments.factories import make_charge, notice_of

PAID_ON = "20260610"
BOOKED_ON = "20260617"


def agent_row(
    kind: str,
    barcode: str,
    amount: int,
    *,
    paid_on: str = PAID_ON,
    booked_on: str | None = None,
    store: tuple[str, str] = ("010", "セブン-イレブン"),
) -> list[str]:
    if booked_on is None:
        booked_on = BOOKED_ON if kind in ("02", "12") else ""
    return [
        kind,
        paid_on,
        "1234",
        f"EAN{barcode}",
        "",
        "",
        "0",
        str(amount),
        store[0],
        store[1],
        "123456",
        booked_on,
        "20260611",
    ]


def agent_file(*rows: list[str], extra_lines: tuple[str, ...] = ()) -> bytes:
    text = agent_csv.write_row(list(agent_csv.HEADER))
    text += "".join(agent_csv.write_row(row) for row in rows)
    text += "".join(extra_lines)
    return text.encode("cp932")


def zengin_file(rows: list[tuple[str, int, str]], *, debit_date: dt.date) -> bytes:
    """``rows`` = (notice number, amount, result code)."""
    records = [zengin.header(debit_date=debit_date)]
    records += [zengin.data_record(notice_number=n, amount=a, result=r) for n, a, r in rows]
    records += [zengin.trailer([(a, r) for _n, a, r in rows]), zengin.end()]
    return b"\r\n".join(records) + b"\r\n"


def ifs_row(
    notice: PaymentNotice, *, amount: int | None = None, check: str | None = None
) -> list[str]:
    return [
        "20260612",
        "0930",
        "24216",
        notice.notice_number,
        check or notice.check_number,
        "011",
        str(notice.amount_yen if amount is None else amount),
        "0005",
        "20260619",
        "pay-easy",
    ]


def ifs_file(*rows: list[str]) -> bytes:
    return ifs.write(list(rows))


def unknown_barcode(amount: int = 12_345) -> str:
    return cvs.build(
        cvs.CvsBarcode(
            company_code="999999",
            free_field="9" * 21,
            reissue=0,
            pay_by=None,
            amount=amount,
        )
    )


def bad_check_digit(barcode: str) -> str:
    return barcode[:43] + str((int(barcode[43]) + 1) % 10)


def slip(amount: int = 12_345, **kwargs: Any) -> PaymentNotice:
    """An open charge with one installment and its active slip (with a barcode)."""
    charge = make_charge(amounts=(amount,), **kwargs)
    notice = notice_of(charge)
    assert notice.cvs_barcode, "the slip should carry a convenience-store barcode"
    return notice
