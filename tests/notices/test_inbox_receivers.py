"""Application and payment events reach the resident's inbox, once, in their language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from cityhall.notices.models import DeliveryPreferences, InboxItem
from cityhall.payments import signals as payment_signals
from cityhall.payments.services import ledger
from cityhall.procedures import signals as procedure_signals
from cityhall.procedures.models import Application, Status
from cityhall.procedures.services import cases
from tests.notices.prefs_support import resident
from tests.payments.factories import make_charge, notice_of
from tests.procedures.test_board_support import fresh, make_application, make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    from tests.conftest import make_staff

    clerk = make_staff("clerk.a@city.iga.example", "clerk", "shimin-seikatsu")
    from cityhall.people.models import Department

    dog = make_procedure(Department.objects.get(code="shimin-seikatsu"), "dog", "犬の登録")
    hanako = resident(preferred_language="en")
    application = make_application(dog, hanako, language="en")
    return {"clerk": clerk, "resident": hanako, "application": application}


def test_a_status_change_adds_one_inbox_item(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    application: Application = world["application"]
    with django_capture_on_commit_callbacks(execute=True):
        cases.transition(application, Status.RECEIVED, actor=fresh(world["clerk"]))
    item = InboxItem.objects.get(user=world["resident"])
    assert item.kind == "application"
    assert item.source_key == f"application:{application.pk}:received"
    assert item.title == f"Your application dog (en) ({application.reference}): Received"
    assert item.url == reverse("procedures:application", args=[application.pk])
    assert item.read_at is None
    # the same signal again (a retry, a duplicate) adds nothing
    for _ in range(2):
        procedure_signals.application_status_changed.send(
            sender=Application,
            application=application,
            from_status=Status.SUBMITTED,
            to_status=Status.RECEIVED,
            actor=world["clerk"],
        )
    assert InboxItem.objects.filter(user=world["resident"]).count() == 1


def test_the_title_is_in_the_language_of_the_application(world: dict[str, Any]) -> None:
    application: Application = world["application"]
    application.language = "ja"
    procedure_signals.application_status_changed.send(
        sender=Application,
        application=application,
        from_status=Status.RECEIVED,
        to_status=Status.NEEDS_INFO,
        actor=world["clerk"],
    )
    item = InboxItem.objects.get(user=world["resident"])
    assert "犬の登録" in item.title
    assert item.urgent is True  # the resident has to act


def test_a_muted_personal_topic_adds_nothing(world: dict[str, Any]) -> None:
    DeliveryPreferences.objects.create(user=world["resident"], muted_topics=["personal"])
    procedure_signals.application_status_changed.send(
        sender=Application,
        application=world["application"],
        from_status=Status.SUBMITTED,
        to_status=Status.APPROVED,
        actor=world["clerk"],
    )
    procedure_signals.resident_message_posted.send(
        sender=Application, application=world["application"], event=type("E", (), {"pk": 1})()
    )
    assert not InboxItem.objects.filter(user=world["resident"]).exists()


def test_a_message_from_the_city_adds_an_item(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    application: Application = world["application"]
    with django_capture_on_commit_callbacks(execute=True):
        event = cases.message_resident(
            application, "写真を送ってください。", actor=fresh(world["clerk"])
        )
    item = InboxItem.objects.get(user=world["resident"])
    assert item.source_key == f"application:{application.pk}:message:{event.pk}"
    assert item.title.startswith("New message from the city about dog (en)")
    assert "写真" not in item.title + item.body  # the message itself stays on the page


def test_a_payment_adds_an_item_for_the_linked_resident_only() -> None:
    hanako = resident()
    linked = make_charge(resident=hanako, amounts=(5_000,))
    unlinked = make_charge(amounts=(6_000,), payer_key="000000000999")
    number = notice_of(linked).notice_number
    for charge in (linked, unlinked):
        notice = notice_of(charge)
        ledger.record_payment(
            notice=notice,
            amount_yen=notice.amount_yen,
            channel="cvs",
            state="provisional",
            paid_on=dt.date(2026, 6, 20),
        )
    item = InboxItem.objects.get()
    assert item.user == hanako and item.kind == "payment"
    assert "5,000" in item.title
    assert item.url == reverse("payments:notice", args=[number])
    # the signal again adds nothing
    installment = linked.installment_set.get()
    payment_signals.installment_paid.send(sender=type(installment), installment=installment)
    assert InboxItem.objects.count() == 1
