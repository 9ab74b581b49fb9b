"""Shared test data for payments: kinds and charges made straight through the ORM, with
their slips issued by the notices service (as an import or a fee leaves them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from cityhall.payments.models import Charge, Installment, PaymentKind, PaymentNotice
from cityhall.people.models import Department


def make_kind(
    code: str = "kojin-juminzei",
    *,
    tax_code: str = "011",
    department_code: str = "zeimu",
    name: str = "個人住民税（普通徴収）",
    online_allowed: bool = False,
    cvs_allowed: bool = True,
    is_tax: bool = True,
) -> PaymentKind:
    department, _ = Department.objects.get_or_create(
        code=department_code, defaults={"name": department_code}
    )
    kind, _ = PaymentKind.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "names": {"en": code.replace("-", " ").title()},
            "tax_code": tax_code,
            "department": department,
            "account_code": "01-01-01-01",
            "online_allowed": online_allowed,
            "cvs_allowed": cvs_allowed,
            "is_tax": is_tax,
        },
    )
    return kind


def make_charge(
    *,
    kind: PaymentKind | None = None,
    resident: Any = None,
    amounts: Sequence[int] = (12_345,),
    first_due: dt.date = dt.date(2026, 6, 30),
    fiscal_year: int = 2026,
    reference: str | None = None,
    payer_key: str = "000000000123",
    payer_name: str = "伊賀 花子",
    issue: bool = True,
) -> Charge:
    """A charge with one installment per amount (due a month apart) and, when ``issue``,
    one slip per installment issued by :func:`cityhall.payments.services.notices.issue_notice`."""
    kind = kind or make_kind()
    reference = reference or f"{Charge.objects.count() + 1:010d}"
    charge = Charge.objects.create(
        kind=kind,
        fiscal_year=fiscal_year,
        tax_year=fiscal_year,
        reference=reference,
        payer_key=payer_key,
        payer_name=payer_name,
        payer_kana="イガ ハナコ",
        payer_postal_code="518-0873",
        payer_address="三重県伊賀市上野丸之内116番地（架空）",
        resident=resident,
        total_yen=sum(amounts),
    )
    for period, amount in enumerate(amounts, start=1):
        month = first_due.month + period - 1
        due = first_due.replace(
            year=first_due.year + (month - 1) // 12, month=(month - 1) % 12 + 1, day=28
        )
        installment = Installment.objects.create(
            charge=charge, period=period, amount_yen=amount, due_date=due
        )
        if issue:
            from cityhall.payments.services import notices

            notices.issue_notice(installment)
    return charge


def notice_of(charge: Charge, period: int = 1) -> PaymentNotice:
    return PaymentNotice.objects.filter(
        installment__charge=charge, installment__period=period, status="active"
    ).get()
