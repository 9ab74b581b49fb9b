"""Reconciliation of collection files: every outcome from a real file built in the test."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhall.core.models import AuditEvent
from cityhall.payments.models import (
    ImportedFile,
    Installment,
    Payment,
    PaymentNotice,
    ReconciliationLine,
)
from cityhall.payments.services import ledger, reconcile
from tests.conftest import make_staff
from tests.payments.test_reconcile_support import (
    agent_file,
    agent_row,
    bad_check_digit,
    ifs_file,
    ifs_row,
    slip,
    unknown_barcode,
    zengin_file,
)

pytestmark = pytest.mark.django_db

Outcome = ReconciliationLine.Outcome


@pytest.fixture
def shuno(db: Any) -> Any:
    return make_staff("shuno@city.iga.example", "clerk", "shuno")


def run(
    data: bytes, shuno: Any, kind: str = "agent", name: str = "agent.csv", **kw: Any
) -> ImportedFile:
    return reconcile.import_collection_file(kind, data, filename=name, actor=shuno, **kw)


def lines(imported: ImportedFile) -> list[ReconciliationLine]:
    return list(imported.lines.order_by("line_no"))


def refreshed(notice: PaymentNotice) -> tuple[PaymentNotice, Installment]:
    notice.refresh_from_db()
    return notice, Installment.objects.get(pk=notice.installment_id)


def test_provisional_stops_reminders_and_keeps_the_row(shuno: Any) -> None:
    notice = slip()
    imported = run(agent_file(agent_row("01", notice.cvs_barcode, 12_345)), shuno)
    assert imported.status == ImportedFile.Status.APPLIED
    assert imported.rows == 1
    assert imported.summary == {"provisional": 1, "needs_review": 0}
    (line,) = lines(imported)
    assert line.outcome == Outcome.PROVISIONAL
    assert line.line_no == 2  # the header is line 1
    assert line.code == notice.cvs_barcode and line.amount_yen == 12_345
    assert line.paid_on == dt.date(2026, 6, 10) and line.store_code == "010"
    assert "セブン-イレブン" in line.raw
    assert not line.needs_review and line.reason
    payment = line.payment
    assert payment is not None and payment.state == Payment.State.PROVISIONAL
    assert payment.channel == "cvs" and payment.booked_on is None
    assert payment.store_name == "セブン-イレブン" and payment.source_file == imported
    notice, installment = refreshed(notice)
    assert installment.status == Installment.Status.PROVISIONAL
    assert installment.paid_yen == 12_345 and installment.paid_channel == "cvs"
    assert notice.status == PaymentNotice.Status.PAID
    assert AuditEvent.objects.filter(action="payments.collection_imported").count() == 1


def test_final_after_provisional_in_the_same_file(shuno: Any) -> None:
    notice = slip()
    data = agent_file(
        agent_row("01", notice.cvs_barcode, 12_345), agent_row("02", notice.cvs_barcode, 12_345)
    )
    imported = run(data, shuno)
    first, second = lines(imported)
    assert (first.outcome, second.outcome) == (Outcome.PROVISIONAL, Outcome.FINAL)
    assert first.payment_id == second.payment_id
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.state == Payment.State.FINAL and payment.booked_on == dt.date(2026, 6, 17)
    _notice, installment = refreshed(notice)
    assert installment.status == Installment.Status.PAID
    assert imported.summary["final"] == 1 and imported.summary["provisional"] == 1


def test_final_promotes_a_provisional_from_an_earlier_file(shuno: Any) -> None:
    notice = slip()
    run(agent_file(agent_row("01", notice.cvs_barcode, 12_345)), shuno, name="day1.csv")
    imported = run(agent_file(agent_row("02", notice.cvs_barcode, 12_345)), shuno, name="day2.csv")
    (line,) = lines(imported)
    assert line.outcome == Outcome.FINAL
    assert line.reason == reconcile.R_FINAL_CONFIRMED
    payment = Payment.objects.get()
    assert line.payment == payment and payment.state == Payment.State.FINAL
    assert payment.booked_on == dt.date(2026, 6, 17)
    assert refreshed(notice)[1].status == Installment.Status.PAID


def test_final_without_provisional_is_booked_and_says_so(shuno: Any) -> None:
    notice = slip()
    imported = run(agent_file(agent_row("02", notice.cvs_barcode, 12_345)), shuno)
    (line,) = lines(imported)
    assert line.outcome == Outcome.FINAL and not line.needs_review
    assert line.reason == reconcile.R_FINAL_NO_PROVISIONAL
    assert "without" in reconcile.reason_text(line.reason)
    assert Payment.objects.get().state == Payment.State.FINAL
    assert refreshed(notice)[1].status == Installment.Status.PAID


def test_cancel_reverses_the_provisional_and_reopens(shuno: Any) -> None:
    notice = slip()
    run(agent_file(agent_row("01", notice.cvs_barcode, 12_345)), shuno, name="a.csv")
    imported = run(agent_file(agent_row("03", notice.cvs_barcode, 12_345)), shuno, name="b.csv")
    (line,) = lines(imported)
    assert line.outcome == Outcome.REVERSED and not line.needs_review
    assert Payment.objects.get().state == Payment.State.REVERSED
    notice, installment = refreshed(notice)
    assert installment.status == Installment.Status.OPEN and installment.paid_yen == 0
    assert notice.status == PaymentNotice.Status.ACTIVE


def test_cancel_without_provisional_is_an_exception(shuno: Any) -> None:
    notice = slip()
    imported = run(agent_file(agent_row("03", notice.cvs_barcode, 12_345)), shuno)
    (line,) = lines(imported)
    assert line.outcome == Outcome.REVERSED and line.needs_review
    assert line.reason == reconcile.R_REVERSE_NOTHING
    assert line.payment is None and not Payment.objects.exists()
    assert refreshed(notice)[1].status == Installment.Status.OPEN


def test_same_slip_paid_twice_is_booked_and_flagged_for_refund(shuno: Any) -> None:
    notice = slip()
    data = agent_file(
        agent_row("01", notice.cvs_barcode, 12_345),
        agent_row("01", notice.cvs_barcode, 12_345, store=("020", "ローソン")),
    )
    imported = run(data, shuno)
    first, second = lines(imported)
    assert first.outcome == Outcome.PROVISIONAL
    assert second.outcome == Outcome.DUPLICATE and second.needs_review
    assert second.payment is not None and second.payment != first.payment
    assert imported.summary == {"provisional": 1, "duplicate": 1, "needs_review": 1}
    installment = refreshed(notice)[1]
    assert installment.paid_yen == 24_690 and installment.status == Installment.Status.PROVISIONAL
    # Their 確報 rows confirm both payments, in order.
    later = run(
        agent_file(
            agent_row("02", notice.cvs_barcode, 12_345), agent_row("02", notice.cvs_barcode, 12_345)
        ),
        shuno,
        name="confirm.csv",
    )
    assert [x.outcome for x in lines(later)] == [Outcome.FINAL, Outcome.FINAL]
    assert set(Payment.objects.values_list("state", flat=True)) == {Payment.State.FINAL}


def test_old_slip_paid_after_a_reissue_is_booked_for_review(shuno: Any) -> None:
    from cityhall.payments.services import notices

    old = slip()
    installment = Installment.objects.get(pk=old.installment_id)
    new = notices.reissue(
        installment, due_date=dt.date.today() + dt.timedelta(days=30), actor=shuno
    )
    old.refresh_from_db()
    assert old.status == PaymentNotice.Status.SUPERSEDED
    imported = run(agent_file(agent_row("01", old.cvs_barcode, old.amount_yen)), shuno)
    (line,) = lines(imported)
    assert line.outcome == Outcome.SUPERSEDED and line.needs_review
    assert line.notice_id == old.pk and line.payment is not None
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.status == PaymentNotice.Status.PAID  # the reissue is not payable any more
    assert old.status == PaymentNotice.Status.SUPERSEDED
    assert refreshed(new)[1].status == Installment.Status.PROVISIONAL
    # Paying the reissued slip too is then a duplicate.
    again = run(agent_file(agent_row("01", new.cvs_barcode, new.amount_yen)), shuno, name="x.csv")
    assert lines(again)[0].outcome == Outcome.DUPLICATE


def test_amount_mismatch_books_nothing(shuno: Any) -> None:
    notice = slip()
    imported = run(agent_file(agent_row("01", notice.cvs_barcode, 12_000)), shuno)
    (line,) = lines(imported)
    assert line.outcome == Outcome.AMOUNT_MISMATCH and line.needs_review
    assert line.notice == notice and line.payment is None
    assert not Payment.objects.exists()
    assert refreshed(notice)[1].status == Installment.Status.OPEN


def test_unknown_barcode(shuno: Any) -> None:
    slip()
    imported = run(agent_file(agent_row("01", unknown_barcode(), 12_345)), shuno)
    (line,) = lines(imported)
    assert line.outcome == Outcome.UNKNOWN and line.needs_review and line.notice is None
    assert not Payment.objects.exists()


def test_malformed_rows_are_lines_with_their_reason(shuno: Any) -> None:
    notice = slip()
    good = agent_row("01", notice.cvs_barcode, 12_345)
    data = agent_file(
        agent_row("01", bad_check_digit(notice.cvs_barcode), 12_345),
        good[:12],
        agent_row("07", notice.cvs_barcode, 12_345),
        [*good[:1], "20261345", *good[2:]],
        [*good[:7], "12,345", *good[8:]],
        agent_row("02", notice.cvs_barcode, 12_345, booked_on=""),
        good,
    )
    imported = run(data, shuno)
    got = lines(imported)
    assert [x.outcome for x in got] == [Outcome.MALFORMED] * 6 + [Outcome.PROVISIONAL]
    assert [x.reason for x in got[:6]] == [
        "the barcode's check digit is wrong",
        "the row does not have 13 columns",
        "the record kind is not 01, 02, 03, 12 or 22",
        "the payment date is not a valid YYYYMMDD date",
        "the amount is not a whole number of yen",
        "the transfer date is missing or not a valid YYYYMMDD date",
    ]
    assert all(x.needs_review and x.raw for x in got[:6])
    assert [p["line"] for p in imported.problems] == [2, 3, 4, 5, 6, 7]
    assert imported.summary["malformed"] == 6


def test_bytes_that_are_not_cp932_are_malformed(shuno: Any) -> None:
    notice = slip()
    data = agent_file(agent_row("01", notice.cvs_barcode, 12_345)).replace(
        "セブン".encode("cp932"), b"\x82\xff\x82\xff\x82\xff"
    )
    (line,) = lines(run(data, shuno))
    assert line.outcome == Outcome.MALFORMED
    assert line.reason == "the row is not CP932 (Shift_JIS) text"


def test_importing_the_same_file_again_changes_nothing(shuno: Any) -> None:
    notice = slip()
    data = agent_file(agent_row("01", notice.cvs_barcode, 12_345))
    first = run(data, shuno)
    counts = (
        Payment.objects.count(),
        ReconciliationLine.objects.count(),
        AuditEvent.objects.count(),
    )
    again = run(data, shuno, name="renamed.csv")
    assert again.pk == first.pk
    assert counts == (
        Payment.objects.count(),
        ReconciliationLine.objects.count(),
        AuditEvent.objects.count(),
    )
    assert ImportedFile.objects.count() == 1


def test_a_crash_mid_import_leaves_nothing(shuno: Any, monkeypatch: Any) -> None:
    notice = slip()
    data = agent_file(
        agent_row("01", notice.cvs_barcode, 12_345), agent_row("01", unknown_barcode(), 1)
    )

    def boom(ids: Any) -> list[int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger, "refresh_installments", boom)
    with pytest.raises(RuntimeError):
        run(data, shuno)
    assert not ImportedFile.objects.exists()
    assert not ReconciliationLine.objects.exists()
    assert not Payment.objects.exists()
    assert refreshed(notice)[1].status == Installment.Status.OPEN
    monkeypatch.undo()
    assert run(data, shuno).summary["provisional"] == 1


def test_postal_transfer_and_its_correction(shuno: Any) -> None:
    notice = slip()
    imported = run(agent_file(agent_row("12", notice.cvs_barcode, 12_345)), shuno, name="p.csv")
    (line,) = lines(imported)
    assert line.outcome == Outcome.FINAL and line.channel == "postal"
    assert Payment.objects.get().channel == "postal"
    corrected = run(agent_file(agent_row("22", notice.cvs_barcode, 12_345)), shuno, name="c.csv")
    assert lines(corrected)[0].outcome == Outcome.REVERSED
    assert refreshed(notice)[1].status == Installment.Status.OPEN


# --- 全銀 -------------------------------------------------------------------------------------


def test_zengin_results_paid_and_not_paid(shuno: Any) -> None:
    paid, unpaid = slip(8_000), slip(9_000)
    data = zengin_file(
        [(paid.notice_number, 8_000, "0"), (unpaid.notice_number, 9_000, "1")],
        debit_date=dt.date(2026, 6, 26),
    )
    assert all(len(r) == 120 for r in data.split(b"\r\n")[:-1])
    imported = run(data, shuno, kind="zengin", name="kekka.txt", today=dt.date(2026, 6, 30))
    first, second = lines(imported)
    assert first.outcome == Outcome.PAID and not first.needs_review
    payment = first.payment
    assert payment is not None and payment.state == Payment.State.FINAL
    assert payment.channel == "debit" and payment.booked_on == dt.date(2026, 6, 26)
    assert second.outcome == Outcome.NOT_PAID and not second.needs_review
    assert second.notice == unpaid and second.payment is None
    assert "insufficient funds" in reconcile.reason_text(second.reason)
    assert refreshed(paid)[1].status == Installment.Status.PAID
    assert refreshed(unpaid)[1].status == Installment.Status.OPEN
    assert imported.summary == {"paid": 1, "not_paid": 1, "needs_review": 0}


def test_zengin_with_wrong_trailer_is_rejected_whole(shuno: Any) -> None:
    notice = slip(8_000)
    data = zengin_file([(notice.notice_number, 8_000, "0")], debit_date=dt.date(2026, 6, 26))
    records = data.split(b"\r\n")
    records[2] = records[2][:1] + b"000002" + records[2][7:]
    imported = run(b"\r\n".join(records), shuno, kind="zengin", today=dt.date(2026, 6, 30))
    assert imported.status == ImportedFile.Status.REJECTED
    assert imported.problems and "trailer" in imported.problems[0]["detail"]
    assert not ReconciliationLine.objects.exists() and not Payment.objects.exists()


def test_zengin_without_line_breaks(shuno: Any) -> None:
    notice = slip(8_000)
    data = zengin_file([(notice.notice_number, 8_000, "0")], debit_date=dt.date(2026, 6, 26))
    imported = run(data.replace(b"\r\n", b""), shuno, kind="zengin", today=dt.date(2026, 6, 30))
    assert imported.summary["paid"] == 1


# --- IFS -------------------------------------------------------------------------------------


def test_ifs_payment_is_final_through_elqr(shuno: Any) -> None:
    notice, other = slip(), slip(5_000)
    data = ifs_file(ifs_row(notice), ifs_row(other, check="000000"), ifs_row(other, amount=4_000))
    imported = run(data, shuno, kind="ifs", name="ifs.csv")
    first, second, third = lines(imported)
    assert first.outcome == Outcome.FINAL and first.channel == "elqr"
    assert first.payment is not None and first.payment.booked_on == dt.date(2026, 6, 19)
    assert first.code == f"24216-{notice.notice_number}-{notice.check_number}-011"
    assert second.outcome == Outcome.UNKNOWN and second.reason == reconcile.R_CHECK_MISMATCH
    assert third.outcome == Outcome.AMOUNT_MISMATCH
    assert refreshed(notice)[1].status == Installment.Status.PAID
    assert refreshed(other)[1].status == Installment.Status.OPEN
