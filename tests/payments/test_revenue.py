"""The revenue export: columns, totals per account code, encodings, audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from cityhall.core.models import AuditEvent
from cityhall.payments.services import ledger, revenue
from tests.conftest import make_staff
from tests.payments.factories import make_kind
from tests.payments.test_reconcile_support import slip

pytestmark = pytest.mark.django_db


def test_columns_rows_and_totals() -> None:
    shuno = make_staff("shuno@city.iga.example", "clerk", "shuno")
    water = make_kind("suido", tax_code="101", department_code="suido", is_tax=False)
    water.account_code = "02-01-01-01"
    water.save()
    a, b, c = slip(1_000), slip(2_000), slip(3_000, kind=water)
    day = dt.date(2026, 6, 17)
    for n in (a, b, c):
        ledger.record_payment(
            notice=n,
            amount_yen=n.amount_yen,
            channel="cvs",
            state="final",
            paid_on=dt.date(2026, 6, 10),
            booked_on=day,
            store_code="010",
        )
    outside = slip(4_000)
    ledger.record_payment(
        notice=outside,
        amount_yen=4_000,
        channel="counter",
        state="final",
        paid_on=dt.date(2026, 7, 1),
    )
    body = revenue.export_revenue(date_from=day, date_to=day, actor=shuno)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(revenue.HEADER)
    details = [r for r in rows[1:] if r[0] != "合計"]
    assert len(details) == 3
    first = details[0]
    assert first[0] == "2026-06-17" and first[1] == "2026-06-10" and first[2] == "01-01-01-01"
    assert first[3] == "011" and first[4] == "kojin-juminzei" and first[5] == "2026"
    assert first[6] == "1" and first[8] == "1000" and first[9] == "cvs" and first[10] == "010"
    assert first[11] == a.notice_number and first[12] == "1"
    totals = {r[2]: (int(r[8]), int(r[12])) for r in rows[1:] if r[0] == "合計"}
    assert totals == {"01-01-01-01": (3_000, 2), "02-01-01-01": (3_000, 1)}
    event = AuditEvent.objects.filter(action="payments.revenue_exported").get()
    assert event.details["rows"] == 3
    cp932 = revenue.export_revenue(date_from=day, date_to=day, encoding="cp932", actor=shuno)
    assert "合計".encode("cp932") in cp932


def test_refuses_a_reversed_range(db: Any) -> None:
    with pytest.raises(ValueError):
        revenue.export_revenue(
            date_from=dt.date(2026, 6, 2), date_to=dt.date(2026, 6, 1), actor=None
        )
