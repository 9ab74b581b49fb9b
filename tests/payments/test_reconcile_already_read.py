"""Row-level idempotency: an agent resends a file with its earlier rows plus new ones."""

from __future__ import annotations

from typing import Any

import pytest

from cityhall.payments.models import Installment, Payment, ReconciliationLine
from cityhall.payments.reconciliation import records
from cityhall.payments.services import reconcile
from tests.conftest import make_staff
from tests.payments.test_reconcile_support import agent_file, agent_row, slip, unknown_barcode

pytestmark = pytest.mark.django_db

Outcome = ReconciliationLine.Outcome


@pytest.fixture
def shuno(db: Any) -> Any:
    return make_staff("shuno@city.iga.example", "clerk", "shuno")


def outcomes(imported: Any) -> list[str]:
    return [x.outcome for x in imported.lines.order_by("line_no")]


def test_rows_of_an_earlier_file_sent_again_are_read_once(shuno: Any) -> None:
    one, two, three = slip(), slip(), slip()
    unknown = unknown_barcode()
    rows = [
        agent_row("01", one.cvs_barcode, one.amount_yen),
        agent_row("01", two.cvs_barcode, two.amount_yen, store=("020", "ローソン")),
        agent_row("01", unknown, 1_000),
    ]
    first = reconcile.import_collection_file(
        "agent", agent_file(*rows), filename="day1.csv", actor=shuno
    )
    assert outcomes(first) == [Outcome.PROVISIONAL, Outcome.PROVISIONAL, Outcome.UNKNOWN]
    # The agent's second delivery: the same three rows, then a new one (another hash).
    resent = agent_file(*rows, agent_row("01", three.cvs_barcode, three.amount_yen))
    second = reconcile.import_collection_file("agent", resent, filename="day1b.csv", actor=shuno)
    assert second.pk != first.pk
    assert outcomes(second) == [Outcome.ALREADY_READ] * 3 + [Outcome.PROVISIONAL]
    assert second.summary == {"already_read": 3, "provisional": 1, "needs_review": 0}
    lines = list(second.lines.order_by("line_no"))
    assert not any(x.needs_review for x in lines)
    assert all(x.payment_id is None for x in lines[:3])
    assert lines[0].notice_id == one.pk and lines[2].notice_id is None
    # The reason names the earlier file and its line.
    text = reconcile.reason_text(lines[1].reason)
    assert "day1.csv" in text and "line 3" in text
    # Only the new row booked: one payment per slip, nothing paid twice.
    assert Payment.objects.count() == 3
    assert Payment.objects.filter(source_file=second).get().notice_id == three.pk
    for notice in (one, two, three):
        installment = Installment.objects.get(pk=notice.installment_id)
        assert installment.paid_yen == notice.amount_yen
        assert installment.status == Installment.Status.PROVISIONAL
    # The exception queue holds the unknown row once, not twice.
    assert list(reconcile.exception_queue().values_list("file_id", flat=True)) == [first.pk]


def test_a_different_time_or_kind_is_a_new_event(shuno: Any) -> None:
    notice = slip()
    row = agent_row("01", notice.cvs_barcode, notice.amount_yen)
    reconcile.import_collection_file("agent", agent_file(row), filename="a.csv", actor=shuno)
    later = list(row)
    later[2] = "1830"  # paid again the same day, later: a real second payment
    final = agent_row("02", notice.cvs_barcode, notice.amount_yen)
    second = reconcile.import_collection_file(
        "agent", agent_file(later, final), filename="b.csv", actor=shuno
    )
    assert outcomes(second) == [Outcome.DUPLICATE, Outcome.FINAL]


def test_one_earlier_row_answers_one_repeated_row(shuno: Any) -> None:
    notice = slip()
    row = agent_row("01", notice.cvs_barcode, notice.amount_yen)
    reconcile.import_collection_file("agent", agent_file(row), filename="a.csv", actor=shuno)
    # The same event twice in the new file, once in the earlier one: the second is new.
    second = reconcile.import_collection_file(
        "agent", agent_file(row, row), filename="b.csv", actor=shuno
    )
    assert outcomes(second) == [Outcome.ALREADY_READ, Outcome.DUPLICATE]


def test_malformed_rows_are_never_already_read(shuno: Any) -> None:
    notice = slip()
    bad = agent_row("01", notice.cvs_barcode, notice.amount_yen)
    bad[7] = "12x"
    reconcile.import_collection_file("agent", agent_file(bad), filename="a.csv", actor=shuno)
    again = reconcile.import_collection_file(
        "agent",
        agent_file(bad, agent_row("01", notice.cvs_barcode, notice.amount_yen)),
        filename="b.csv",
        actor=shuno,
    )
    assert outcomes(again) == [Outcome.MALFORMED, Outcome.PROVISIONAL]


def test_the_natural_key_is_defined_once() -> None:
    import datetime as dt

    day = dt.date(2026, 6, 10)
    key = records.natural_key("01", "9" * 70, day, "1234", "01012345678", 100)
    assert key == ("01", "9" * 64, day, "1234", "0101234567", 100)
    assert records.paid_time_of_raw('01,20260610,1234,EAN1,,,0,100,010,"a,b"', 2) == "1234"
