"""The ledger's per-row API and its one rule for installments and slips."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhall.payments import signals
from cityhall.payments.models import Installment, Payment, PaymentNotice
from cityhall.payments.services import ledger
from tests.payments.factories import make_charge, notice_of
from tests.payments.test_reconcile_support import slip

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 10)


@pytest.fixture
def paid_signals() -> Any:
    got: list[int] = []

    def receiver(sender: Any, installment: Installment, **kwargs: Any) -> None:
        got.append(installment.pk)

    signals.installment_paid.connect(receiver, dispatch_uid="test-ledger")
    yield got
    signals.installment_paid.disconnect(dispatch_uid="test-ledger")


def state(notice: PaymentNotice) -> tuple[str, int, str, str]:
    notice.refresh_from_db()
    i = Installment.objects.get(pk=notice.installment_id)
    return i.status, i.paid_yen, i.paid_channel, notice.status


def test_counter_payment_is_final_and_signals_once(paid_signals: list[int]) -> None:
    notice = slip()
    payment = ledger.record_payment(
        notice=notice, amount_yen=12_345, channel="counter", state="final", paid_on=DAY
    )
    assert payment.booked_on == DAY and payment.installment_id == notice.installment_id
    assert state(notice) == ("paid", 12_345, "counter", "paid")
    assert paid_signals == [notice.installment_id]
    assert Installment.objects.get(pk=notice.installment_id).paid_on == DAY
    assert ledger.refresh_installments([notice.installment_id]) == []  # no second transition


def test_provisional_then_final(paid_signals: list[int]) -> None:
    notice = slip()
    payment = ledger.record_payment(
        notice=notice, amount_yen=12_345, channel="online", state="provisional", paid_on=DAY
    )
    assert state(notice) == ("provisional", 12_345, "online", "paid")
    ledger.finalize(payment, booked_on=DAY + dt.timedelta(days=3))
    assert state(notice)[0] == "paid"
    assert paid_signals == [notice.installment_id]


def test_part_payment_leaves_it_open() -> None:
    notice = slip()
    ledger.record_payment(
        notice=notice, amount_yen=5_000, channel="counter", state="final", paid_on=DAY
    )
    assert state(notice) == ("open", 5_000, "counter", "active")


def test_reverse_and_refund_reopen() -> None:
    notice = slip()
    payment = ledger.record_payment(
        notice=notice, amount_yen=12_345, channel="online", state="final", paid_on=DAY
    )
    ledger.mark_refunded(payment, 345)
    payment.refresh_from_db()
    assert payment.amount_yen == 12_000 and payment.state == "final"
    assert Payment.objects.filter(state="refunded").get().amount_yen == 345
    # a part refund lowers what was owed: the installment stays paid
    installment = Installment.objects.get(pk=notice.installment_id)
    assert installment.amount_yen == 12_000
    assert installment.charge.total_yen == 12_000
    assert state(notice)[:3] == ("paid", 12_000, "online")
    ledger.mark_refunded(payment, 12_000)
    assert state(notice) == ("open", 0, "", "active")
    with pytest.raises(ledger.LedgerError):
        ledger.reverse(payment)


def test_refuses_bad_amounts() -> None:
    notice = slip()
    for amount in (0, -1, 1.5, True):
        with pytest.raises(ledger.LedgerError):
            ledger.record_payment(
                notice=notice,
                amount_yen=amount,
                channel="counter",
                state="final",
                paid_on=DAY,  # type: ignore[arg-type]
            )
    with pytest.raises(ledger.LedgerError):
        ledger.record_payment(
            notice=notice, amount_yen=1, channel="counter", state="reversed", paid_on=DAY
        )


def test_refresh_is_set_based_over_many() -> None:
    notices = [slip(1_000 + i) for i in range(5)]
    for n in notices[:3]:
        Payment.objects.create(
            installment_id=n.installment_id,
            notice=n,
            channel="cvs",
            state="final",
            amount_yen=n.amount_yen,
            paid_on=DAY,
            booked_on=DAY,
        )
    moved = ledger.refresh_installments([n.installment_id for n in notices])
    assert sorted(moved) == sorted(n.installment_id for n in notices[:3])
    assert [state(n)[0] for n in notices] == ["paid"] * 3 + ["open"] * 2


def test_a_charge_is_paid_when_every_instalment_is_booked() -> None:
    charge = make_charge(amounts=(1_000, 2_000))
    first, second = (notice_of(charge, 1), notice_of(charge, 2))
    ledger.record_payment(notice=first, amount_yen=1_000, channel="cvs", state="final", paid_on=DAY)
    charge.refresh_from_db()
    assert charge.status == "open"
    payment = ledger.record_payment(
        notice=second, amount_yen=2_000, channel="cvs", state="provisional", paid_on=DAY
    )
    charge.refresh_from_db()
    assert charge.status == "open"  # 速報 only: not booked yet
    ledger.finalize(payment, booked_on=DAY)
    charge.refresh_from_db()
    assert charge.status == "paid"
    ledger.reverse(payment)
    charge.refresh_from_db()
    assert charge.status == "open"
