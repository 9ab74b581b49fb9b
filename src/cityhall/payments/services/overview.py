"""What the resident's my page shows about payments: what is open, what is overdue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from cityhall.payments.models import Installment


@dataclass(frozen=True)
class PaymentsOverview:
    open_count: int
    open_yen: int
    overdue_count: int
    next_due: Installment | None


def overview(user: Any, *, today: dt.date | None = None) -> PaymentsOverview:
    """Open installments of the resident's own charges (provisional ones count as paid)."""
    today = today or timezone.localdate()
    open_rows = list(
        Installment.objects.filter(charge__resident=user, status=Installment.Status.OPEN)
        .exclude(charge__status="cancelled")
        .select_related("charge__kind")
        .order_by("due_date", "id")
    )
    return PaymentsOverview(
        open_count=len(open_rows),
        open_yen=sum(row.amount_yen - row.paid_yen for row in open_rows),
        overdue_count=sum(1 for row in open_rows if row.due_date < today),
        next_due=open_rows[0] if open_rows else None,
    )
