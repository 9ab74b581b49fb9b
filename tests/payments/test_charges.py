"""Charges: making them, who sees them (residents their own, clerks by department), payer
links, cancelling, and the staff pages with their audit entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cityhall.core.models import AuditEvent
from cityhall.payments.models import (
    Charge,
    Installment,
    PayerAccount,
    PaymentNotice,
)
from cityhall.payments.services import charges
from tests.conftest import login_staff, make_staff
from tests.payments.test_charges_support import World, build_world, make, seed_kinds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def world() -> World:
    return build_world()


def _actions(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- the service ---------------------------------------------------------------------------


def test_create_charge_makes_installments_slips_and_an_audit_entry(world: World) -> None:
    charge = world.juminzei
    assert charge.total_yen == 24_600
    assert charge.payer_postal_code == "518-0873"
    assert [(i.period, i.amount_yen) for i in charge.installment_set.order_by("period")] == [
        (1, 12_300),
        (2, 12_300),
    ]
    slips = PaymentNotice.objects.filter(installment__charge=charge, status="active")
    assert slips.count() == 2
    assert all(len(n.notice_number) == 20 for n in slips)
    event = _actions("payments.charge_created")[0]
    assert event.target_id == str(world.juminzei.pk)
    assert event.subject_id == world.resident.pk
    assert event.details["total_yen"] == 24_600


def test_the_payer_link_decides_the_resident_of_a_new_charge(world: World) -> None:
    PayerAccount.objects.create(payer_key="000000004242", user=world.other_resident)
    charge = make("keijidoshazei", "300002", payer_key="000000004242", amounts=(2_000,))
    assert charge.resident_id == world.other_resident.pk


def test_create_charge_refuses_bad_input_and_duplicates(world: World) -> None:
    with pytest.raises(charges.ChargeError) as caught:
        make("kojin-juminzei", "100001")
    assert caught.value.code == "exists"
    with pytest.raises(charges.ChargeError) as caught:
        make("kojin-juminzei", "100009", amounts=())
    assert caught.value.code == "no_installments"
    with pytest.raises(charges.ChargeError) as caught:
        make("kojin-juminzei", "100010", amounts=(0,))
    assert caught.value.code == "amount"
    with pytest.raises(charges.ChargeError):
        charges.create_charge(
            kind="kojin-juminzei",
            fiscal_year=2026,
            tax_year=2026,
            reference="100011",
            payer={"key": "1", "name": "x"},
            installments=[(1, 1.5, dt.date(2026, 6, 30))],  # type: ignore[list-item]
        )
    assert Charge.objects.filter(reference__in=["100009", "100010", "100011"]).count() == 0


def test_a_resident_sees_only_their_own_charges(world: World) -> None:
    mine = list(charges.charges_for_resident(world.resident))
    assert mine == [world.juminzei]
    theirs = list(charges.charges_for_resident(world.other_resident))
    assert theirs == [world.other_charge]
    assert world.water_charge not in mine + theirs
    from django.contrib.auth.models import AnonymousUser

    assert not charges.charges_for_resident(AnonymousUser()).exists()


def test_clerks_see_the_charges_of_their_departments_kinds(world: World) -> None:
    every = {world.juminzei.pk, world.water_charge.pk, world.other_charge.pk}
    assert set(charges.visible_charges(world.central).values_list("pk", flat=True)) == every
    assert set(charges.visible_charges(world.zeimu).values_list("pk", flat=True)) == {
        world.juminzei.pk,
        world.other_charge.pk,
    }
    assert set(charges.visible_charges(world.water).values_list("pk", flat=True)) == {
        world.water_charge.pk
    }
    assert not charges.visible_charges(world.resident).exists()


def test_search_by_name_kana_payer_number_and_slip_number(world: World) -> None:
    def found(**kwargs: Any) -> set[int]:
        return set(charges.search_charges(world.central, **kwargs).values_list("pk", flat=True))

    assert found(q="伊賀") == {world.juminzei.pk}
    assert found(q="いが はなこ") == {world.juminzei.pk}  # hiragana finds the katakana
    assert found(q="ｳｴﾉ") == {world.water_charge.pk}  # half-width kana too
    assert found(q="000000000999") == {world.other_charge.pk}
    assert found(q="400001") == {world.water_charge.pk}
    notice = PaymentNotice.objects.filter(installment__charge=world.water_charge).first()
    assert notice is not None
    spaced = f"{notice.notice_number[:4]} {notice.notice_number[4:12]}-{notice.notice_number[12:]}"
    assert found(q=spaced) == {world.water_charge.pk}
    assert found(q="伊賀", status="cancelled") == set()
    assert found(fiscal_year=2025) == set()
    # A zeimu clerk does not find the water charge even by its exact number.
    assert not charges.search_charges(world.zeimu, q="400001").exists()


def test_linking_a_payer_shows_their_charges_and_is_audited(world: World) -> None:
    total = charges.link_payer("000000000888", world.other_resident, actor=world.central)
    assert total == 1
    world.water_charge.refresh_from_db()
    assert world.water_charge.resident_id == world.other_resident.pk
    assert charges.link_payer("000000000888", world.other_resident, actor=world.central) == 1
    with pytest.raises(charges.ChargeError) as caught:
        charges.link_payer("000000000888", world.resident, actor=world.central)
    assert caught.value.code == "linked_elsewhere"
    with pytest.raises(charges.ChargeError):
        charges.link_payer("000000000888", world.central, actor=world.central)
    # A later charge of the same payer is theirs at once.
    later = make("suido", "400002", payer_key="000000000888", name="上野 一郎")
    assert later.resident_id == world.other_resident.pk
    assert charges.unlink_payer("000000000888", actor=world.central) == 2
    assert not Charge.objects.filter(payer_key="000000000888", resident__isnull=False).exists()
    assert [e.details["payer_key"] for e in _actions("payments.payer_linked")] == [
        "000000000888",
        "000000000888",
    ]
    assert _actions("payments.payer_unlinked")[0].subject_id == world.other_resident.pk


def test_cancelling_cancels_open_installments_and_their_slips(world: World) -> None:
    charge = world.juminzei
    first = charge.installment_set.get(period=1)
    Installment.objects.filter(pk=first.pk).update(status="paid", paid_yen=first.amount_yen)
    charges.cancel_charge(charge, "賦課更正のため", actor=world.zeimu)
    charge.refresh_from_db()
    assert charge.status == "cancelled"
    assert dict(charge.installment_set.values_list("period", "status")) == {
        1: "paid",
        2: "cancelled",
    }
    assert PaymentNotice.objects.get(installment__charge=charge, installment__period=2).status == (
        "cancelled"
    )
    event = _actions("payments.charge_cancelled")[0]
    assert event.details == {
        "reason": "賦課更正のため",
        "installments_cancelled": 1,
        "notices_cancelled": 1,
    }
    with pytest.raises(charges.ChargeError):
        charges.cancel_charge(charge, "again", actor=world.zeimu)
    with pytest.raises(charges.ChargeError):
        charges.cancel_charge(world.water_charge, "  ", actor=world.central)


# --- the staff pages -----------------------------------------------------------------------


def test_the_central_clerk_lists_every_charge(client: Any, world: World) -> None:
    login_staff(client, world.central)
    response = client.get(reverse("paystaff:charges"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "100001" in body and "400001" in body and "300001" in body
    assert response.context["page"].paginator.count == 3
    assert reverse("paystaff:imports") in body
    response = client.get(reverse("paystaff:charges"), {"q": "ウエノ"})
    body = response.content.decode()
    assert "400001" in body and "100001" not in body


def test_a_bad_filter_shows_the_error_summary(client: Any, world: World) -> None:
    login_staff(client, world.central)
    response = client.get(reverse("paystaff:charges"), {"fiscal_year": "x"})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()


def test_a_zeimu_clerk_lists_only_tax_charges_and_gets_404_elsewhere(
    client: Any, world: World
) -> None:
    login_staff(client, world.zeimu)
    body = client.get(reverse("paystaff:charges")).content.decode()
    assert "100001" in body and "300001" in body and "400001" not in body
    assert reverse("paystaff:imports") not in body
    assert client.get(reverse("paystaff:charge", args=[world.juminzei.pk])).status_code == 200
    assert client.get(reverse("paystaff:charge", args=[world.water_charge.pk])).status_code == 404
    assert client.get(reverse("paystaff:imports")).status_code == 403


def test_another_departments_clerk_gets_404_on_a_tax_charge(client: Any, world: World) -> None:
    login_staff(client, world.water)
    url = reverse("paystaff:charge", args=[world.juminzei.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "cancel", "reason": "x"}).status_code == 404
    installment = world.juminzei.installment_set.get(period=1)
    response = client.post(
        reverse("paystaff:reissue", args=[installment.pk]), {"reissue-1-due_date": "2027-01-01"}
    )
    assert response.status_code == 404
    notice = PaymentNotice.objects.filter(installment=installment).first()
    assert notice is not None
    assert client.get(reverse("paystaff:notice_pdf", args=[notice.notice_number])).status_code == (
        404
    )
    assert client.post(
        reverse("paystaff:link_payer", args=[world.juminzei.pk]), {"email": "taro@example.jp"}
    ).status_code == (404)
    assert world.juminzei.resident_id == world.resident.pk
    assert Charge.objects.get(pk=world.juminzei.pk).status == "open"


def test_a_clerk_without_a_payments_department_is_refused(client: Any, world: World) -> None:
    clerk = make_staff("kodomo@city.iga.example", "auditor", "kosodate-shien")
    login_staff(client, clerk)
    assert client.get(reverse("paystaff:charges")).status_code == 403


def test_residents_never_reach_the_staff_pages(client: Any, world: World) -> None:
    client.force_login(world.resident)
    response = client.get(reverse("paystaff:charge", args=[world.juminzei.pk]))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_opening_a_charge_is_audited_and_shows_its_parts(client: Any, world: World) -> None:
    login_staff(client, world.zeimu)
    response = client.get(reverse("paystaff:charge", args=[world.juminzei.pk]))
    body = response.content.decode()
    assert "伊賀 花子" in body and "000000000777" in body and "hanako@example.jp" in body
    for notice in PaymentNotice.objects.filter(installment__charge=world.juminzei):
        assert notice.notice_number in body
    event = _actions("payments.charge_viewed")[-1]
    assert event.actor_id == world.zeimu.pk
    assert event.target_id == str(world.juminzei.pk)
    assert event.subject_id == world.resident.pk


def test_reissue_from_the_charge_page(client: Any, world: World) -> None:
    login_staff(client, world.zeimu)
    installment = world.juminzei.installment_set.get(period=2)
    old = PaymentNotice.objects.get(installment=installment)
    new_due = timezone.localdate() + dt.timedelta(days=20)
    url = reverse("paystaff:reissue", args=[installment.pk])
    response = client.post(url, {f"reissue-{installment.pk}-due_date": new_due.isoformat()})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == "superseded"
    new = PaymentNotice.objects.get(installment=installment, status="active")
    assert new.reissue == 1 and new.due_date == new_due
    past = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(url, {f"reissue-{installment.pk}-due_date": past.isoformat()})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()


def test_link_payer_from_the_charge_page(client: Any, world: World) -> None:
    login_staff(client, world.central)
    client.cookies["cityhall_lang"] = "en"
    url = reverse("paystaff:link_payer", args=[world.water_charge.pk])
    response = client.post(url, {"email": "nobody@example.jp"})
    assert response.status_code == 422
    assert "No resident account" in response.content.decode()
    response = client.post(url, {"email": "TARO@example.jp"})
    assert response.status_code == 302
    world.water_charge.refresh_from_db()
    assert world.water_charge.resident_id == world.other_resident.pk
    response = client.post(
        reverse("paystaff:charge", args=[world.water_charge.pk]), {"action": "unlink"}
    )
    assert response.status_code == 302
    world.water_charge.refresh_from_db()
    assert world.water_charge.resident_id is None


def test_cancel_from_the_charge_page(client: Any, world: World) -> None:
    login_staff(client, world.central)
    url = reverse("paystaff:charge", args=[world.water_charge.pk])
    response = client.post(url, {"action": "cancel", "reason": ""})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()
    response = client.post(url, {"action": "cancel", "reason": "重複して調定したため"})
    assert response.status_code == 302
    world.water_charge.refresh_from_db()
    assert world.water_charge.status == "cancelled"


def test_the_staff_slip_pdf_is_audited(client: Any, world: World) -> None:
    login_staff(client, world.zeimu)
    notice = PaymentNotice.objects.filter(installment__charge=world.juminzei).first()
    assert notice is not None
    response = client.get(reverse("paystaff:notice_pdf", args=[notice.notice_number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    event = _actions("payments.slip_downloaded")[-1]
    assert event.details["notice_number"] == notice.notice_number
    assert event.subject_id == world.resident.pk


def test_the_list_is_paginated(client: Any, world: World) -> None:
    for n in range(60):
        make("shiei-jutaku", f"{700000 + n}", payer_key=f"{n:012d}", amounts=(5_000,))
    login_staff(client, world.central)
    response = client.get(reverse("paystaff:charges"))
    assert response.context["page"].paginator.count == 63
    assert len(response.context["page"].object_list) == 50
    response = client.get(reverse("paystaff:charges"), {"page": "2"})
    assert len(response.context["page"].object_list) == 13


def test_seed_kinds_is_idempotent_with_charges_present(world: World) -> None:
    seed_kinds()
    assert Charge.objects.count() == 3
