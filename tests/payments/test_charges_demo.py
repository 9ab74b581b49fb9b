"""The demo's charges and payments: made once, with the payer links and paid instalments."""

from __future__ import annotations

import pytest

from cityhall.payments.demo import seed_demo_payments
from cityhall.payments.models import Charge, Payment, PaymentNotice
from cityhall.payments.services import charges
from cityhall.people.models import User
from cityhall.people.seed import load_departments, seed_demo_residents, seed_demo_staff

pytestmark = pytest.mark.django_db


def test_demo_payments_are_made_once() -> None:
    load_departments()
    seed_demo_staff()
    seed_demo_residents()
    first = seed_demo_payments()
    assert first["charges"] >= 60 and first["payments"] > 10 and first["links"] == 6
    again = seed_demo_payments()
    assert again == {"charges": 0, "payments": 0, "links": 0, "fees": 0}
    hanako = User.objects.get(email="resident@example.jp")
    mine = list(charges.charges_for_resident(hanako))
    assert {c.kind.code for c in mine} == {
        "kojin-juminzei",
        "keijidoshazei",
        "kotei-shisanzei",
        "suido",
    }
    juminzei = next(c for c in mine if c.kind.code == "kojin-juminzei")
    assert list(juminzei.installment_set.values_list("status", flat=True)) == [
        "paid",
        "open",
        "open",
        "open",
    ]
    assert Payment.objects.filter(installment__charge=juminzei).count() == 1
    kotei = next(c for c in mine if c.kind.code == "kotei-shisanzei")
    big = PaymentNotice.objects.get(installment__charge=kotei, installment__period=3)
    assert big.amount_yen > 300_000 and big.cvs_barcode == ""
    assert Charge.objects.filter(resident__isnull=True).count() >= 50


def test_demo_applications_with_a_fee_get_their_charge() -> None:
    from cityhall.procedures.demo import seed_demo_applications
    from cityhall.procedures.seed import load_procedures

    load_departments()
    seed_demo_staff()
    seed_demo_residents()
    load_procedures()
    seed_demo_applications()
    counts = seed_demo_payments()
    assert counts["fees"] >= 1
    fee_charges = Charge.objects.filter(application__isnull=False)
    assert fee_charges.count() == counts["fees"]
    assert all(c.kind.code == "tesuryo" and c.resident_id for c in fee_charges)
    assert seed_demo_payments()["fees"] == 0
