"""Procedure fees as charges: the hook's URL, one charge per application (fee × copies),
and the fee marked paid when its installment is paid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cityhall.core.models import AuditEvent
from cityhall.payments.models import Charge, PaymentNotice
from cityhall.payments.services import charges, fees, ledger
from cityhall.procedures.models import Application, ApplicationEvent, FormVersion, Procedure
from cityhall.procedures.seed import load_procedures
from cityhall.procedures.services import applications, hooks
from tests.conftest import make_resident
from tests.payments.test_charges_support import seed_kinds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue() -> None:
    seed_kinds()
    load_procedures()


def submitted(slug: str, applicant: Any, data: dict[str, Any]) -> Application:
    """An application as ``applications.submit`` leaves it (fee per copy, fee due)."""
    procedure = Procedure.objects.get(slug=slug)
    version = FormVersion.objects.filter(definition__procedure=procedure).latest("number")
    app = Application.objects.create(
        procedure=procedure,
        department_id=procedure.department_id,
        version=version,
        applicant=applicant,
        status="submitted",
        data=data,
        applicant_name="伊賀 花子",
        submitted_at=timezone.now(),
        fee_yen=procedure.fee_yen,
        fee_status="due",
        language="ja",
    )
    app.reference = applications.reference_for(app.pk, timezone.localdate().year)
    app.save(update_fields=["reference"])
    return app


def test_juminhyo_with_three_copies_is_a_900_yen_charge(catalogue: None) -> None:
    hanako = make_resident("hanako@example.jp")
    name = {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"}
    app = submitted(
        "juminhyo",
        hanako,
        {"copies": 3, "applicant_name": name, "applicant_postal_code": "518-8501"},
    )
    assert Procedure.objects.get(slug="juminhyo").fee_hook == "payments.fee"
    charge = fees.charge_for_application(app)
    assert charge.total_yen == 900
    assert charge.kind.code == "tesuryo"
    assert charge.source == Charge.Source.PROCEDURE
    assert charge.resident_id == hanako.pk
    assert charge.application_id == app.pk
    assert charge.payer_key == f"APP-{app.reference}"
    assert charge.payer_name == "伊賀 花子" and charge.payer_kana == "イガ ハナコ"
    assert charge.payer_postal_code == "518-8501"
    assert charge.reference == app.reference.replace("-", "")
    (installment,) = charge.installment_set.all()
    assert installment.amount_yen == 900
    assert installment.due_date == timezone.localdate() + dt.timedelta(days=fees.FEE_DUE_DAYS)
    assert PaymentNotice.objects.filter(installment=installment, status="active").count() == 1
    # The resident sees it among their own charges.
    assert list(charges.charges_for_resident(hanako)) == [charge]


def test_charge_for_application_is_idempotent(catalogue: None) -> None:
    app = submitted("juminhyo", make_resident("hanako@example.jp"), {"copies": 2})
    first = fees.charge_for_application(app)
    again = fees.charge_for_application(Application.objects.get(pk=app.pk))
    assert again.pk == first.pk and first.total_yen == 600
    assert Charge.objects.filter(application=app).count() == 1
    assert AuditEvent.objects.filter(action="payments.charge_created").count() == 1


def test_a_form_without_copies_charges_the_fee_once(catalogue: None) -> None:
    app = submitted("inu-toroku", make_resident("lan@example.jp"), {"dog_name": "ポチ"})
    assert fees.charge_for_application(app).total_yen == 3000


def test_the_fee_hook_points_to_the_fee_page_while_the_fee_is_due(catalogue: None) -> None:
    app = submitted("shotoku-shomei", make_resident("carlos@example.jp"), {})
    assert hooks.fee_url(app) == reverse("payments:fee", args=[app.reference])
    app.fee_status = "paid"
    assert hooks.fee_url(app) is None
    draft = Application(procedure=app.procedure, fee_yen=300, fee_status="")
    assert fees.fee_url(draft) is None
    with pytest.raises(charges.ChargeError):
        fees.charge_for_application(draft)


def test_paying_the_installment_marks_the_fee_paid(catalogue: None) -> None:
    app = submitted("juminhyo", make_resident("hanako@example.jp"), {"copies": 3})
    charge = fees.charge_for_application(app)
    notice = PaymentNotice.objects.get(installment__charge=charge, status="active")
    ledger.record_payment(
        notice=notice,
        amount_yen=900,
        channel="online",
        state="provisional",
        paid_on=timezone.localdate(),
    )
    app.refresh_from_db()
    assert app.fee_status == "paid"
    event = ApplicationEvent.objects.filter(application=app, visible_to_resident=True).last()
    assert event is not None and event.kind == ApplicationEvent.Kind.FEE_PAID
    audit = AuditEvent.objects.get(action="application.fee_status")
    assert audit.details == {"from": "due", "to": "paid"}
    assert hooks.fee_url(app) is None


def test_a_payment_of_another_charge_leaves_applications_alone(catalogue: None) -> None:
    app = submitted("juminhyo", make_resident("hanako@example.jp"), {"copies": 1})
    other = charges.create_charge(
        kind="keijidoshazei",
        fiscal_year=2026,
        tax_year=2026,
        reference="300001",
        payer={"key": "000000000777", "name": "伊賀 花子"},
        installments=[(1, 10_800, timezone.localdate() + dt.timedelta(days=10))],
    )
    notice = PaymentNotice.objects.get(installment__charge=other)
    ledger.record_payment(
        notice=notice, amount_yen=10_800, channel="cvs", state="final", paid_on=timezone.localdate()
    )
    app.refresh_from_db()
    assert app.fee_status == "due"


def test_set_fee_status_is_idempotent_and_checks_the_status(catalogue: None) -> None:
    app = submitted("juminhyo", make_resident("hanako@example.jp"), {"copies": 1})
    assert applications.set_fee_status(app.pk, "paid") is True
    assert applications.set_fee_status(app.pk, "paid") is False
    assert ApplicationEvent.objects.filter(application=app).count() == 1
    with pytest.raises(ValueError):
        applications.set_fee_status(app.pk, "maybe")


def test_the_fee_charge_is_made_when_the_application_is_sent(catalogue: None) -> None:
    from cityhall.procedures import signals as procedure_signals

    resident = make_resident("sent@example.jp")
    app = submitted("juminhyo", resident, {"copies": "2"})
    procedure_signals.application_submitted.send(sender=Application, application=app)
    charge = Charge.objects.get(application=app)
    assert charge.total_yen == 600 and charge.resident == resident
    assert PaymentNotice.objects.filter(installment__charge=charge, status="active").count() == 1
    # sent again (a retried signal): still one charge
    procedure_signals.application_submitted.send(sender=Application, application=app)
    assert Charge.objects.filter(application=app).count() == 1


def test_a_procedure_without_the_payments_hook_makes_no_charge(catalogue: None) -> None:
    from cityhall.procedures import signals as procedure_signals

    app = submitted("koseki-shomei", make_resident("counter@example.jp"), {})
    procedure_signals.application_submitted.send(sender=Application, application=app)
    assert not Charge.objects.filter(application=app).exists()
