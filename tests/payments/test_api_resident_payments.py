"""The residents' payments API: their own charges and slips only, integer yen, the eL-QR
content and eL番号 of a slip; problem details for visitors, staff and other people's slips."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cityhall.payments.models import Channel
from cityhall.payments.services import ledger, notices
from tests.conftest import login_staff
from tests.payments.test_resident_support import World, build_world

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
LIST = "/api/v1/me/payments"


def notice_url(number: str) -> str:
    return f"/api/v1/me/payments/notices/{number}"


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def hanako(client: Client, world: World) -> Client:
    client.force_login(world.resident)
    return client


def problem(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{type_}" and body["status"] == status
    return body


def test_visitors_get_401_problems(client: Client, world: World) -> None:
    problem(client.get(LIST), 401, "not-authenticated")
    problem(client.get(notice_url(world.due_notice.notice_number)), 401, "not-authenticated")


def test_staff_sessions_are_refused(client: Client, world: World) -> None:
    login_staff(client, world.staff)
    problem(client.get(LIST), 403, "permission-denied")


def test_my_payments_lists_only_my_charges_in_integer_yen(hanako: Client, world: World) -> None:
    response = hanako.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert {c["reference"] for c in body} == {
        world.tax.reference,
        world.kokuho.reference,
        world.fee.reference,
    }
    tax = next(c for c in body if c["reference"] == world.tax.reference)
    assert tax["kind"] == "kojin-juminzei" and tax["fiscal_year"] == world.tax.fiscal_year
    assert tax["total_yen"] == 222_100 and tax["open_yen"] == 222_100
    assert [i["period"] for i in tax["installments"]] == [1, 2]
    first = tax["installments"][0]
    assert first["amount_yen"] == 123_400 and isinstance(first["amount_yen"], int)
    assert first["status"] == "open" and first["overdue"] is False
    assert first["notice_number"] == world.due_notice.notice_number
    assert first["due_date"] == world.due_notice.due_date.isoformat()
    kokuho = next(c for c in body if c["reference"] == world.kokuho.reference)
    assert kokuho["installments"][0]["overdue"] is True


def test_paid_installments_carry_date_and_channel(hanako: Client, world: World) -> None:
    today = timezone.localdate()
    ledger.record_payment(
        notice=world.fee_notice,
        amount_yen=900,
        channel=Channel.CVS,
        state="final",
        paid_on=today,
    )
    body = hanako.get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()
    fee = next(c for c in body if c["reference"] == world.fee.reference)
    paid = fee["installments"][0]
    assert paid["status"] == "paid" and paid["paid_yen"] == 900
    assert paid["paid_on"] == today.isoformat() and paid["paid_channel"] == "cvs"
    assert paid["paid_channel_label"] == "Convenience store or payment app"
    assert fee["open_yen"] == 0


def test_a_slip_has_what_a_payment_app_needs(hanako: Client, world: World) -> None:
    notice = world.due_notice
    body = hanako.get(notice_url(notice.notice_number)).json()
    assert body["status"] == "active" and body["payable"] is True
    assert body["amount_yen"] == 123_400
    assert body["elqr_payload"] == notice.elqr_payload and len(body["elqr_payload"]) == 255
    assert body["el_number"] == {
        "institution_code": "24216",
        "notice_number": notice.notice_number,
        "check_number": notice.check_number,
        "tax_code": "011",
    }
    # the eL番号 is the one inside the eL-QR
    from cityhall.payments.codes import elqr

    parsed = elqr.parse(body["elqr_payload"])
    assert parsed.el_number.notice_number == notice.notice_number
    assert parsed.el_number.check_number == notice.check_number
    assert parsed.el_number.institution_code == body["el_number"]["institution_code"]
    assert parsed.el_number.tax_code == body["el_number"]["tax_code"]
    assert parsed.amount == body["amount_yen"]
    assert body["cvs_barcode"] == notice.cvs_barcode and len(body["cvs_barcode"]) == 44
    assert body["due_date"] == notice.due_date.isoformat()
    assert body["pdf_url"] == f"/payments/notices/{notice.notice_number}/slip.pdf"
    assert body["online_payment"] is False and body["pay_url"] is None


def test_a_small_fee_offers_online_payment(hanako: Client, world: World) -> None:
    number = world.fee_notice.notice_number
    body = hanako.get(notice_url(number)).json()
    assert body["online_payment"] is True
    assert body["pay_url"] == f"/payments/notices/{number}/pay/"


def test_other_peoples_slips_are_not_found(hanako: Client, world: World) -> None:
    theirs = problem(hanako.get(notice_url(world.others_notice.notice_number)), 404, "not-found")
    missing = problem(hanako.get(notice_url("9" * 20)), 404, "not-found")
    odd = problem(hanako.get(notice_url("not-a-number")), 404, "not-found")
    for body in (theirs, missing, odd):
        body.pop("instance", None)  # the address asked for
    assert theirs == missing == odd


def test_a_replaced_slip_points_to_the_new_one(hanako: Client, world: World) -> None:
    old = world.due_notice
    new = notices.reissue(
        old.installment, due_date=timezone.localdate() + dt.timedelta(days=30), actor=world.staff
    )
    body = hanako.get(notice_url(old.notice_number)).json()
    assert body["status"] == "superseded" and body["payable"] is False
    assert body["replaced_by"] == new.notice_number
    assert body["elqr_payload"] is None and body["cvs_barcode"] is None
    assert body["pdf_url"] is None
    listed = hanako.get(LIST).json()
    tax = next(c for c in listed if c["reference"] == world.tax.reference)
    assert tax["installments"][0]["notice_number"] == new.notice_number
