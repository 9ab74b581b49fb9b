"""What a resident sees of their own payments: the rows of "My payments" and one slip.

Read-only and shared by the HTML pages (:mod:`cityhall.payments.views.resident`) and the
JSON API (:mod:`cityhall.payments.api`), so both show the same thing. A resident reaches
only the charges :func:`resident_charges` gives them; any other notice number is "not
found", whether it exists or not (no enumeration, no leak of existence).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cityhall.payments.models import Charge, Installment, PaymentNotice
from cityhall.payments.services import charges
from cityhall.payments.slips import layout

#: A notice number (案件特定キー) is 20 digits; anything else is not looked up at all.
NOTICE_NUMBER_RE = re.compile(r"^[0-9]{20}$")
#: How many reissues are followed from a superseded slip to the one that replaced it.
MAX_REPLACEMENT_HOPS = 20


def yen(amount: int) -> str:
    """An amount with thousands commas, as on the slip: ``12,345``."""
    return f"{int(amount):,}"


def wareki(year: int) -> str:
    """The Japanese era of a fiscal year, as on the slip: 令和8年度 for 2026."""
    return layout.fiscal_ja(year)


def resident_charges(user: Any, *, include_cancelled: bool = False) -> QuerySet[Charge]:
    """The charges a resident may see: the charges service keeps that rule in one place."""
    return charges.charges_for_resident(user, include_cancelled=include_cancelled)


@dataclass(frozen=True)
class ElNumber:
    """eL番号: the four items typed into a bank app, Pay-easy or 地方税お支払サイト."""

    institution_code: str  # 共通納税機関コード (5) = Pay-easy 収納機関番号
    notice_number: str  # 案件特定キー (20) = Pay-easy 納付番号
    check_number: str  # 確認番号 (6)
    tax_code: str  # 税目・料金番号 (3) = Pay-easy 納付区分

    @property
    def notice_number_groups(self) -> list[str]:
        """The 20 digits in groups of four, for reading and typing."""
        return [self.notice_number[i : i + 4] for i in range(0, len(self.notice_number), 4)]


@dataclass(frozen=True)
class Row:
    """One installment (期別) as the resident sees it."""

    installment: Installment
    charge: Charge
    kind_name: str
    periods: int  # how many installments the charge has
    notice: PaymentNotice | None  # the slip to pay with (active), or the one that was paid
    state: str  # due, overdue, provisional, paid

    @property
    def amount_yen(self) -> int:
        return self.installment.amount_yen

    @property
    def amount_text(self) -> str:
        return yen(self.installment.amount_yen)

    @property
    def open_yen(self) -> int:
        return max(self.installment.amount_yen - self.installment.paid_yen, 0)

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"


@dataclass
class YearGroup:
    fiscal_year: int
    rows: list[Row] = field(default_factory=list)

    @property
    def wareki(self) -> str:
        return wareki(self.fiscal_year)


@dataclass
class Statement:
    """Everything on "My payments"."""

    due: list[YearGroup]
    paid: list[YearGroup]
    due_yen: int
    due_count: int
    overdue_count: int
    provisional_count: int
    has_charges: bool

    @property
    def due_yen_text(self) -> str:
        return yen(self.due_yen)


def _state(installment: Installment, today: dt.date) -> str:
    if installment.status == Installment.Status.PAID:
        return "paid"
    if installment.status == Installment.Status.PROVISIONAL:
        return "provisional"
    return "overdue" if installment.due_date < today else "due"


def _pick_notice(notices: list[PaymentNotice], state: str) -> PaymentNotice | None:
    wanted = PaymentNotice.Status.ACTIVE
    if state in ("paid", "provisional"):
        paid = [n for n in notices if n.status == PaymentNotice.Status.PAID]
        if paid:
            return paid[-1]
    active = [n for n in notices if n.status == wanted]
    return active[-1] if active else None


def statement(user: Any, *, language: str, today: dt.date | None = None) -> Statement:
    """The resident's installments: what is due (oldest due date first, provisional ones
    too) and what is paid (newest first), each grouped by fiscal year (newest first)."""
    today = today or timezone.localdate()
    rows = list(
        resident_charges(user)
        .select_related("kind")
        .prefetch_related(
            Prefetch(
                "installment_set",
                queryset=Installment.objects.exclude(
                    status=Installment.Status.CANCELLED
                ).prefetch_related(
                    Prefetch(
                        "notices",
                        queryset=PaymentNotice.objects.order_by("reissue", "id"),
                    )
                ),
            )
        )
    )
    due: dict[int, YearGroup] = {}
    paid: dict[int, YearGroup] = defaultdict(lambda: YearGroup(0))
    due_rows: list[Row] = []
    paid_rows: list[Row] = []
    for charge in rows:
        installments = list(charge.installment_set.all())
        kind_name = charge.kind.localized_name(language)
        for installment in installments:
            state = _state(installment, today)
            row = Row(
                installment=installment,
                charge=charge,
                kind_name=kind_name,
                periods=len(installments),
                notice=_pick_notice(list(installment.notices.all()), state),
                state=state,
            )
            (paid_rows if state == "paid" else due_rows).append(row)
    due_rows.sort(key=lambda r: (r.installment.due_date, r.kind_name, r.installment.period))
    paid_rows.sort(
        key=lambda r: (r.installment.paid_on or dt.date.min, r.installment.period), reverse=True
    )
    for row in due_rows:
        year = row.charge.fiscal_year
        due.setdefault(year, YearGroup(year)).rows.append(row)
    for row in paid_rows:
        year = row.charge.fiscal_year
        if paid[year].fiscal_year == 0:
            paid[year].fiscal_year = year
        paid[year].rows.append(row)
    open_rows = [r for r in due_rows if r.state in ("due", "overdue")]
    return Statement(
        due=[due[y] for y in sorted(due, reverse=True)],
        paid=[paid[y] for y in sorted(paid, reverse=True)],
        due_yen=sum(r.open_yen for r in open_rows),
        due_count=len(open_rows),
        overdue_count=sum(1 for r in open_rows if r.overdue),
        provisional_count=sum(1 for r in due_rows if r.state == "provisional"),
        has_charges=bool(rows),
    )


def own_notice(user: Any, number: str) -> PaymentNotice | None:
    """The resident's own notice with this number, or ``None`` (also for anyone else's)."""
    if not NOTICE_NUMBER_RE.fullmatch(number or ""):
        return None
    return (
        PaymentNotice.objects.select_related("installment__charge__kind")
        .filter(
            notice_number=number,
            installment__charge__in=resident_charges(user, include_cancelled=True).values("pk"),
        )
        .first()
    )


def replacement(notice: PaymentNotice) -> PaymentNotice | None:
    """The slip that replaced a superseded one (following reissues to the newest)."""
    current = notice
    for _ in range(MAX_REPLACEMENT_HOPS):
        if current.superseded_by_id is None:
            break
        following = (
            PaymentNotice.objects.filter(
                pk=current.superseded_by_id, installment_id=notice.installment_id
            )
            .select_related("installment__charge__kind")
            .first()
        )
        if following is None:
            break
        current = following
    return current if current.pk != notice.pk else None


def el_number(notice: PaymentNotice) -> ElNumber:
    """The eL番号 of a slip, from the same values its eL-QR carries."""
    return ElNumber(
        institution_code=str(settings.PAYMENT_MUNICIPALITY_CODE),
        notice_number=notice.notice_number,
        check_number=notice.check_number,
        tax_code=notice.installment.charge.kind.tax_code,
    )


def is_payable(notice: PaymentNotice) -> bool:
    """The slip can still be paid: it is the valid one and its installment is open."""
    return (
        notice.status == PaymentNotice.Status.ACTIVE
        and notice.installment.status == Installment.Status.OPEN
        and notice.installment.charge.status != Charge.Status.CANCELLED
    )


def online_payable(notice: PaymentNotice) -> bool:
    """Card or wallet online: the kind allows it and the amount is a small one."""
    from cityhall.payments import providers

    return (
        providers.online_enabled()
        and is_payable(notice)
        and notice.installment.charge.kind.online_allowed
        and 0 < notice.amount_yen <= int(settings.PAYMENT_ONLINE_LIMIT_YEN)
    )


def paid_notice_state(notice: PaymentNotice) -> str:
    """``active``, ``provisional`` (paid at a store, being confirmed), ``paid``,
    ``superseded`` or ``cancelled``: what the slip page says."""
    installment = notice.installment
    if notice.status == PaymentNotice.Status.SUPERSEDED:
        return "superseded"
    if (
        notice.status == PaymentNotice.Status.CANCELLED
        or installment.status == Installment.Status.CANCELLED
        or installment.charge.status == Charge.Status.CANCELLED
    ):
        return "cancelled"
    if installment.status == Installment.Status.PAID or notice.status == "paid":
        return "paid"
    if installment.status == Installment.Status.PROVISIONAL:
        return "provisional"
    return "active"
