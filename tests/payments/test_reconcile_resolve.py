"""The clerk's decisions on exceptions: each resolution, its audit, and no second decision."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from cityhall.core.models import AuditEvent
from cityhall.payments.models import Installment, Payment, ReconciliationLine, Refund
from cityhall.payments.services import reconcile
from tests.conftest import make_staff
from tests.payments.test_reconcile_support import agent_file, agent_row, slip, unknown_barcode

pytestmark = pytest.mark.django_db
Resolution = ReconciliationLine.Resolution


@pytest.fixture
def shuno(db: Any) -> Any:
    return make_staff("shuno@city.iga.example", "clerk", "shuno")


@pytest.fixture
def shuno_manager(db: Any) -> Any:
    return make_staff("kacho@city.iga.example", "manager", "shuno")


def exception(rows: list[list[str]], actor: Any) -> ReconciliationLine:
    imported = reconcile.import_collection_file(
        "agent", agent_file(*rows), filename="f.csv", actor=actor
    )
    return imported.lines.filter(needs_review=True).get()


def test_refund_of_a_duplicate(shuno_manager: Any) -> None:
    notice = slip()
    row = agent_row("02", notice.cvs_barcode, 12_345)
    line = exception([row, row], shuno_manager)
    assert line.outcome == "duplicate"
    reconcile.resolve(
        line, Resolution.REFUND, "Paid at two stores; refund by transfer.", actor=shuno_manager
    )
    refund = Refund.objects.get()
    assert refund.line == line and refund.amount_yen == 12_345 and refund.state == "requested"
    assert Payment.objects.get(pk=line.payment_id).state == "refunded"
    installment = Installment.objects.get(pk=notice.installment_id)
    assert installment.status == "paid" and installment.paid_yen == 12_345
    event = AuditEvent.objects.filter(action="payments.exception_resolved").get()
    assert event.details["resolution"] == "refund" and event.details["amount_yen"] == 12_345


def test_refund_needs_a_manager(shuno: Any) -> None:
    notice = slip()
    row = agent_row("02", notice.cvs_barcode, 12_345)
    line = exception([row, row], shuno)
    with pytest.raises(PermissionDenied):
        reconcile.resolve(line, Resolution.REFUND, "x", actor=shuno)
    assert "refund" not in dict(reconcile.resolutions_for(line, shuno))


def test_apply_an_amount_mismatch(shuno: Any) -> None:
    notice = slip()
    line = exception([agent_row("02", notice.cvs_barcode, 12_000)], shuno)
    reconcile.resolve(line, Resolution.APPLY, "Payer paid less; rest follows.", actor=shuno)
    line.refresh_from_db()
    assert line.resolution == "apply" and line.resolved_by == shuno and line.resolved_at
    assert line.payment is not None and line.payment.amount_yen == 12_000
    assert line.payment.state == "final"
    assert Installment.objects.get(pk=notice.installment_id).paid_yen == 12_000


def test_book_an_unknown_code_to_another_slip(shuno: Any) -> None:
    notice = slip(5_000)
    line = exception([agent_row("01", unknown_barcode(5_000), 5_000)], shuno)
    with pytest.raises(reconcile.ReconcileError):
        reconcile.resolve(line, Resolution.BOOK_OTHER, "wrong", actor=shuno, other_notice="1" * 20)
    reconcile.resolve(
        line,
        Resolution.BOOK_OTHER,
        "The payer told us.",
        actor=shuno,
        other_notice=notice.notice_number,
    )
    line.refresh_from_db()
    assert line.notice == notice and line.payment is not None
    assert Installment.objects.get(pk=notice.installment_id).status == "provisional"


def test_write_off_moves_nothing_and_cannot_be_decided_twice(shuno: Any) -> None:
    notice = slip()
    line = exception([agent_row("03", notice.cvs_barcode, 12_345)], shuno)
    with pytest.raises(reconcile.ReconcileError):
        reconcile.resolve(line, Resolution.WRITE_OFF, "   ", actor=shuno)
    reconcile.resolve(line, Resolution.WRITE_OFF, "Agent confirmed a test row.", actor=shuno)
    assert not Payment.objects.exists()
    with pytest.raises(reconcile.ReconcileError):
        reconcile.resolve(line, Resolution.WRITE_OFF, "again", actor=shuno)
    assert AuditEvent.objects.filter(action="payments.exception_resolved").count() == 1
    assert not reconcile.exception_queue().exists()


def test_other_clerks_cannot_decide(shuno: Any) -> None:
    notice = slip()
    line = exception([agent_row("03", notice.cvs_barcode, 12_345)], shuno)
    other = make_staff("suido@city.iga.example", "clerk", "suido")
    with pytest.raises(PermissionDenied):
        reconcile.resolve(line, Resolution.WRITE_OFF, "x", actor=other)
