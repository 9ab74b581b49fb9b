"""Notices: the city's numbering, check numbers, issuing (one and in bulk), reissue, slips."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
from typing import Any

import pytest
from django.utils import timezone, translation

from cityhall.core.models import AuditEvent
from cityhall.payments.codes import cvs, elqr
from cityhall.payments.models import Charge, Installment, PaymentNotice
from cityhall.payments.services import notices
from tests.conftest import make_staff
from tests.payments.factories import make_charge, make_kind, notice_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shuno(db: Any) -> Any:
    return make_staff("shuno@city.iga.example", "clerk", "shuno")


# --- numbering ----------------------------------------------------------------------------


def test_notice_number_structure_and_round_trip() -> None:
    charge = make_charge(amounts=(12_345, 6_000))
    first, second = (notice_of(charge, p) for p in (1, 2))
    inst = first.installment
    assert first.notice_number == f"2026011{inst.pk:012d}0"
    assert len(first.notice_number) == 20 and first.notice_number.isdigit()
    assert first.notice_number != second.notice_number
    parts = notices.split_notice_number(first.notice_number)
    assert parts == notices.NoticeNumberParts(2026, "011", inst.pk, 0)
    assert notices.notice_number_for(inst, 3) == first.notice_number[:-1] + "3"


def test_notice_number_refuses_what_does_not_fit() -> None:
    with pytest.raises(notices.NoticeError):
        notices.compose_notice_number(fiscal_year=2026, tax_code="11", installment_id=1, reissue=0)
    with pytest.raises(notices.NoticeError):
        notices.compose_notice_number(
            fiscal_year=2026, tax_code="011", installment_id=1, reissue=10
        )
    with pytest.raises(notices.NoticeError):
        notices.split_notice_number("1234")


def test_check_number_is_an_hmac_under_the_secret(settings: Any) -> None:
    settings.PAYMENT_SECRET = "first-secret"
    number = "20260110000000000420"
    check = notices.check_number_for(number, 12_345)
    expected = hmac.new(b"first-secret", f"{number}:12345".encode(), hashlib.sha256).digest()
    assert check == f"{int.from_bytes(expected, 'big') % 1_000_000:06d}"
    assert len(check) == 6 and check.isdigit()
    assert notices.check_number_for(number, 12_345) == check  # stable
    assert notices.check_number_for(number, 12_346) != check  # amount counts
    settings.PAYMENT_SECRET = "second-secret"
    assert notices.check_number_for(number, 12_345) != check  # secret counts


def test_check_numbers_of_consecutive_notices_show_no_pattern(settings: Any) -> None:
    settings.PAYMENT_SECRET = "city-secret"
    numbers = [f"20260110{i:011d}0" for i in range(1, 501)]
    checks = [int(notices.check_number_for(n, 1000)) for n in numbers]
    assert len(set(checks)) > 490  # nearly all distinct in a space of a million
    steps = {b - a for a, b in itertools.pairwise(checks)}
    assert len(steps) > 490  # no constant step a payer could extrapolate
    assert all(0 <= c < 1_000_000 for c in checks)


def test_first_slip_carries_elqr_and_barcode_with_the_city_numbering() -> None:
    charge = make_charge(amounts=(12_345,))
    notice = notice_of(charge)
    inst = notice.installment
    assert notice.reissue == 0 and notice.status == PaymentNotice.Status.ACTIVE
    assert notice.due_date == inst.due_date
    assert notice.pay_by == inst.due_date + dt.timedelta(days=14)
    assert notice.check_number == notices.check_number_for(notice.notice_number, 12_345)

    parsed = elqr.parse(notice.elqr_payload)
    assert parsed.amount == 12_345
    assert parsed.notice_number == notice.notice_number
    assert parsed.check_number == notice.check_number
    assert parsed.tax_code == "011"
    assert parsed.institution_code == "24216"
    assert parsed.office_code == "000"
    assert (parsed.fiscal_year, parsed.tax_year, parsed.period) == (2026, 2026, 1)
    assert (parsed.due_date, parsed.pay_by) == (notice.due_date, notice.pay_by)

    code = cvs.parse(notice.cvs_barcode)
    assert code.company_code == "912345"
    assert code.free_field == f"01126{inst.pk:014d}01"
    assert code.reissue == 0
    assert code.pay_by == notice.pay_by
    assert code.amount == 12_345


def test_issue_notice_is_idempotent() -> None:
    charge = make_charge(amounts=(5_000,))
    inst = charge.installment_set.get()
    first = notice_of(charge)
    again = notices.issue_notice(inst)
    assert again.pk == first.pk
    assert PaymentNotice.objects.filter(installment=inst).count() == 1


def test_issue_notice_refuses_a_cancelled_installment() -> None:
    charge = make_charge(amounts=(5_000,), issue=False)
    inst = charge.installment_set.get()
    Installment.objects.filter(pk=inst.pk).update(status=Installment.Status.CANCELLED)
    with pytest.raises(notices.NoticeError):
        notices.issue_notice(inst)
    assert not PaymentNotice.objects.exists()


def test_over_the_store_limit_no_barcode(settings: Any) -> None:
    settings.PAYMENT_CVS_LIMIT_YEN = 300_000
    charge = make_charge(amounts=(300_000, 300_001))
    assert notice_of(charge, 1).cvs_barcode
    over = notice_of(charge, 2)
    assert over.cvs_barcode == ""
    assert elqr.parse(over.elqr_payload).amount == 300_001  # the eL-QR still carries it


def test_kind_without_store_payment_gets_no_barcode(settings: Any) -> None:
    kind = make_kind("hoikuryo", tax_code="120", cvs_allowed=False, is_tax=False)
    notice = notice_of(make_charge(kind=kind, amounts=(20_000,)))
    assert notice.cvs_barcode == ""
    assert notices.cvs_allowed_for(20_000, True)
    settings.PAYMENT_CVS_LIMIT_YEN = 10_000
    assert not notices.cvs_allowed_for(20_000, True)


# --- bulk ----------------------------------------------------------------------------------


def _bulk_installments(count: int) -> list[int]:
    kind = make_kind()
    water = make_kind("suido", tax_code="301", cvs_allowed=False, is_tax=False)
    charges = Charge.objects.bulk_create(
        [
            Charge(
                kind=kind if i % 2 else water,
                fiscal_year=2026,
                tax_year=2026,
                reference=f"B{i:09d}",
                payer_key=f"{i:012d}",
                payer_name="伊賀 太郎",
                total_yen=1000 + i,
            )
            for i in range(count)
        ]
    )
    if not all(c.pk for c in charges):  # backends that return no ids
        charges = list(Charge.objects.filter(reference__startswith="B").order_by("reference"))
    due = dt.date(2026, 6, 30)
    Installment.objects.bulk_create(
        [Installment(charge=c, period=1, amount_yen=c.total_yen, due_date=due) for c in charges]
    )
    return list(Installment.objects.values_list("id", flat=True))


def test_bulk_issue_2000_with_a_bounded_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    ids = _bulk_installments(2000)
    with django_assert_max_num_queries(40):
        issued = notices.issue_for_installments(ids)
    assert issued == 2000
    assert PaymentNotice.objects.count() == 2000
    assert PaymentNotice.objects.filter(cvs_barcode="").count() == 1000  # the water kind
    sample = PaymentNotice.objects.select_related("installment__charge__kind").order_by("?")[:20]
    for notice in sample:
        inst = notice.installment
        assert notice.notice_number == notices.notice_number_for(inst, 0)
        assert notice.check_number == notices.check_number_for(
            notice.notice_number, inst.amount_yen
        )
        assert elqr.parse(notice.elqr_payload).notice_number == notice.notice_number
    # again: nothing new, still no per-row queries
    with django_assert_max_num_queries(10):
        assert notices.issue_for_installments(ids) == 0
    assert PaymentNotice.objects.count() == 2000


def test_bulk_issue_skips_closed_and_already_issued() -> None:
    issued_charge = make_charge(amounts=(1000,))
    open_charge = make_charge(amounts=(2000, 3000), issue=False)
    paid = open_charge.installment_set.get(period=2)
    Installment.objects.filter(pk=paid.pk).update(status=Installment.Status.PAID)
    ids = list(Installment.objects.values_list("id", flat=True))
    assert notices.issue_for_installments(ids) == 1
    assert notices.issue_for_installments([]) == 0
    assert PaymentNotice.objects.filter(installment__charge=issued_charge).count() == 1
    assert not PaymentNotice.objects.filter(installment=paid).exists()


# --- reissue -------------------------------------------------------------------------------


def test_reissue_supersedes_and_changes_every_code(shuno: Any) -> None:
    charge = make_charge(amounts=(12_345,))
    old = notice_of(charge)
    inst = old.installment
    new_due = timezone.localdate() + dt.timedelta(days=30)
    new = notices.reissue(inst, due_date=new_due, actor=shuno)

    old.refresh_from_db()
    assert old.status == PaymentNotice.Status.SUPERSEDED
    assert old.superseded_by_id == new.pk
    assert new.status == PaymentNotice.Status.ACTIVE
    assert new.reissue == 1
    assert new.notice_number == old.notice_number[:-1] + "1"
    assert (new.due_date, new.pay_by) == (new_due, new_due + dt.timedelta(days=14))
    assert new.check_number == notices.check_number_for(new.notice_number, 12_345)
    assert new.cvs_barcode != old.cvs_barcode
    assert new.cvs_barcode[29] == "1"  # position 30: 再発行区分
    code = cvs.parse(new.cvs_barcode)
    assert (code.reissue, code.pay_by, code.amount) == (1, new.pay_by, 12_345)
    assert code.free_field == cvs.parse(old.cvs_barcode).free_field
    parsed = elqr.parse(new.elqr_payload)
    assert parsed.notice_number == new.notice_number and parsed.notice_number[-1] == "1"
    assert (parsed.due_date, parsed.check_number) == (new_due, new.check_number)
    assert notice_of(charge).pk == new.pk  # the active slip
    event = AuditEvent.objects.get(action="payments.notice_reissued")
    assert event.actor_id == shuno.pk
    assert event.details["superseded"] == [old.notice_number]
    assert event.details["notice_number"] == new.notice_number


def test_reissue_chain_stops_after_nine(shuno: Any) -> None:
    charge = make_charge(amounts=(8_000,))
    inst = charge.installment_set.get()
    due = timezone.localdate() + dt.timedelta(days=10)
    for expected in range(1, 10):
        assert notices.reissue(inst, due_date=due, actor=shuno).reissue == expected
    with translation.override("en"), pytest.raises(notices.NoticeError, match="9 times"):
        notices.reissue(inst, due_date=due, actor=shuno)
    rows = list(PaymentNotice.objects.filter(installment=inst).order_by("reissue"))
    assert [n.reissue for n in rows] == list(range(10))
    assert [n.status for n in rows].count(PaymentNotice.Status.ACTIVE) == 1
    for before, after in itertools.pairwise(rows):
        assert before.superseded_by_id == after.pk
    assert len({n.cvs_barcode for n in rows}) == 10


@pytest.mark.parametrize(
    "status",
    [Installment.Status.PAID, Installment.Status.PROVISIONAL, Installment.Status.CANCELLED],
)
def test_reissue_refused_for_paid_or_cancelled(shuno: Any, status: str) -> None:
    charge = make_charge(amounts=(8_000,))
    inst = charge.installment_set.get()
    Installment.objects.filter(pk=inst.pk).update(status=status)
    with translation.override("en"), pytest.raises(notices.NoticeError) as caught:
        notices.reissue(inst, due_date=timezone.localdate(), actor=shuno)
    assert isinstance(caught.value, ValueError)
    assert "paid or cancelled" in str(caught.value)
    assert PaymentNotice.objects.filter(installment=inst).count() == 1
    assert not AuditEvent.objects.filter(action="payments.notice_reissued").exists()


def test_reissue_refuses_a_past_due_date(shuno: Any) -> None:
    inst = make_charge(amounts=(8_000,)).installment_set.get()
    with translation.override("en"), pytest.raises(notices.NoticeError, match="past"):
        notices.reissue(inst, due_date=timezone.localdate() - dt.timedelta(days=1), actor=shuno)


# --- what is printed ------------------------------------------------------------------------


def test_slip_data_from_the_notice_and_the_department() -> None:
    charge = make_charge(amounts=(12_345,))
    department = charge.kind.department
    department.name = "収納課"
    department.phone = "0595-22-9620"
    department.save()
    notice = notice_of(charge)
    data = notices.slip_data(PaymentNotice.objects.get(pk=notice.pk))
    assert data.notice_number == notice.notice_number
    assert data.check_number == notice.check_number
    assert data.amount_yen == 12_345 and isinstance(data.amount_yen, int)
    assert data.elqr_payload == notice.elqr_payload
    assert data.cvs_barcode == notice.cvs_barcode
    assert data.issuer == "伊賀市長"
    assert data.contact == "伊賀市 収納課 0595-22-9620"
    assert data.payer_address == "三重県伊賀市上野丸之内116番地（架空）"
    assert data.institution_code == "24216"
    assert (data.fiscal_year, data.period, data.reissue) == (2026, 1, 0)
    assert data.charge_reference == charge.reference


def test_pdf_for_notice_is_a_one_page_pdf() -> None:
    import io

    from pypdf import PdfReader

    notice = notice_of(make_charge(amounts=(12_345,)))
    data = notices.pdf_for_notice(notice)
    assert data.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
