"""Booking rules (予約): capacity, cutoff, days ahead, interpreter language, once per slot,
the conditional UPDATE that takes a place, cancel, reminders, slot generation, e-mail."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.inquiries.models import Booking, BookingService, Place, Slot
from cityhall.inquiries.services import bookings
from cityhall.notices.models import InboxItem
from cityhall.people.models import Department
from tests.conftest import make_resident, make_staff

pytestmark = pytest.mark.django_db


def make_service(slug: str = "raicho", **extra: Any) -> BookingService:
    department, _ = Department.objects.get_or_create(
        code=extra.pop("department_code", "shimin-seikatsu"), defaults={"name": "市民生活課"}
    )
    defaults: dict[str, Any] = {
        "kind": "counter",
        "department": department,
        "names": {"ja": "来庁予約", "en": "Counter visit"},
        "descriptions": {"ja": "窓口の予約", "en": "Book the counter"},
        "minutes": 15,
        "cutoff_hours": 2,
    }
    defaults.update(extra)
    return BookingService.objects.create(slug=slug, **defaults)


def make_place(code: str = "honcho-shimin") -> Place:
    place, _ = Place.objects.get_or_create(
        code=code,
        defaults={
            "names": {"ja": "本庁 市民課窓口", "en": "City Hall, Residents' Counter"},
            "address": "〒518-8501 三重県伊賀市四十九町3184",
        },
    )
    return place


def make_slot(
    service: BookingService | None = None,
    *,
    starts_in: dt.timedelta = dt.timedelta(days=2),
    capacity: int = 2,
    place: Place | None = None,
) -> Slot:
    service = service or make_service()
    start = (timezone.now() + starts_in).replace(second=0, microsecond=0)
    return Slot.objects.create(
        service=service,
        place=place or make_place(),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=service.minutes),
        capacity=capacity,
    )


def refused(reason: str, slot_id: int, user: Any, **kwargs: Any) -> bookings.BookingError:
    with pytest.raises(bookings.BookingError) as caught:
        bookings.book(slot_id, user, **kwargs)
    assert caught.value.reason == reason, caught.value.messages
    return caught.value


def test_booking_takes_a_place_and_is_audited(resident: Any) -> None:
    slot = make_slot()
    booking = bookings.book(slot.pk, resident, note="住民票を2通")
    slot.refresh_from_db()
    assert slot.booked == 1 and slot.free == 1
    assert re.fullmatch(r"B-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}", booking.reference)
    assert booking.status == Booking.Status.BOOKED and booking.note == "住民票を2通"
    event = AuditEvent.objects.get(action="inquiries.booking.created")
    assert event.details["reference"] == booking.reference


def test_a_full_slot_refuses_and_counts_stay(resident: Any, other_resident: Any) -> None:
    slot = make_slot(capacity=1)
    bookings.book(slot.pk, resident)
    error = refused("full", slot.pk, other_resident)
    assert "taken" in str(error.messages[0]) or error.messages[0]
    slot.refresh_from_db()
    assert slot.booked == 1
    assert Booking.objects.filter(slot=slot).count() == 1


def test_once_per_slot(resident: Any) -> None:
    slot = make_slot(capacity=3)
    bookings.book(slot.pk, resident)
    refused("already_booked", slot.pk, resident)
    slot.refresh_from_db()
    assert slot.booked == 1


def test_the_unique_constraint_also_guards_once_per_slot(resident: Any) -> None:
    slot = make_slot(capacity=3)
    bookings.book(slot.pk, resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(reference="B-ZZZZZZ", slot=slot, resident=resident)


def test_inside_the_cutoff_and_in_the_past(resident: Any) -> None:
    soon = make_slot(starts_in=dt.timedelta(hours=1))
    refused("cutoff", soon.pk, resident)
    past = make_slot(soon.service, starts_in=dt.timedelta(hours=-1))
    refused("past", past.pk, resident)
    assert not Booking.objects.exists()


def test_beyond_the_days_ahead(resident: Any, settings: Any) -> None:
    settings.BOOKING_DAYS_AHEAD = 10
    far = make_slot(starts_in=dt.timedelta(days=12))
    refused("too_far", far.pk, resident)
    near = make_slot(far.service, starts_in=dt.timedelta(days=9))
    assert bookings.book(near.pk, resident).pk


def test_inactive_slot_or_service(resident: Any) -> None:
    slot = make_slot()
    Slot.objects.filter(pk=slot.pk).update(active=False)
    refused("inactive", slot.pk, resident)
    other = make_slot(make_service("kosodate-sodan", active=False))
    refused("inactive", other.pk, resident)


def test_interpreter_language_must_be_offered(resident: Any) -> None:
    service = make_service(
        "gaikokujin-sodan",
        kind="foreign",
        department_code="tabunka-kyosei",
        interpreter_languages=["pt-br", "vi"],
        minutes=60,
    )
    slot = make_slot(service)
    refused("language", slot.pk, resident, interpreter_language="fr")
    booking = bookings.book(slot.pk, resident, interpreter_language="pt-br")
    assert booking.interpreter_language == "pt-br"
    counter = make_slot(starts_in=dt.timedelta(days=3))
    refused("language", counter.pk, resident, interpreter_language="en")


def test_the_conditional_update_takes_only_free_places() -> None:
    slot = make_slot(capacity=2)
    assert bookings.take_place(slot.pk) is True
    assert bookings.take_place(slot.pk) is True
    assert bookings.take_place(slot.pk) is False
    slot.refresh_from_db()
    assert slot.booked == 2


def test_the_check_constraint_is_the_last_guard() -> None:
    slot = make_slot(capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=F("capacity") + 1)


@pytest.mark.django_db(transaction=True)
def test_no_overbooking_under_concurrency() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a shared database (PostgreSQL or a SQLite file)")
    slot = make_slot(capacity=3)
    residents = [make_resident(f"r{i}@example.invalid") for i in range(12)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(residents))

    def attempt(user: Any) -> None:
        barrier.wait()
        try:
            bookings.book(slot.pk, user, notify=False)
            outcomes.append("ok")
        except bookings.BookingError as error:
            outcomes.append(error.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in residents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slot.refresh_from_db()
    assert outcomes.count("ok") == 3
    assert outcomes.count("full") == 9
    assert slot.booked == 3
    assert Booking.objects.filter(slot=slot, status="booked").count() == 3


def test_resident_cancels_and_the_place_is_free_again(resident: Any, other_resident: Any) -> None:
    slot = make_slot(capacity=1)
    booking = bookings.book(slot.pk, resident)
    with pytest.raises(PermissionDenied):
        bookings.cancel(booking, other_resident)
    bookings.cancel(booking, resident)
    booking.refresh_from_db()
    slot.refresh_from_db()
    assert booking.status == "cancelled" and booking.cancelled_at is not None
    assert slot.booked == 0
    assert bookings.book(slot.pk, other_resident).pk
    with pytest.raises(bookings.BookingError):
        bookings.cancel(booking, resident)
    assert AuditEvent.objects.filter(action="inquiries.booking.cancelled").count() == 1


def test_too_late_to_cancel_online_but_staff_can(resident: Any) -> None:
    slot = make_slot()
    booking = bookings.book(slot.pk, resident)
    Slot.objects.filter(pk=slot.pk).update(starts_at=timezone.now() + dt.timedelta(hours=1))
    booking.refresh_from_db()
    with pytest.raises(bookings.BookingError) as caught:
        bookings.cancel(booking, resident)
    assert caught.value.reason == "cutoff"
    other_dept = make_staff("clerk2@city.iga.example", "clerk", "kosodate-shien")
    with pytest.raises(PermissionDenied):
        bookings.cancel(booking, other_dept)
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    bookings.cancel(booking, clerk)
    slot.refresh_from_db()
    assert slot.booked == 0


def test_staff_mark_attended_and_no_show(resident: Any) -> None:
    booking = bookings.book(make_slot().pk, resident)
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    bookings.mark(booking, "attended", clerk)
    booking.refresh_from_db()
    assert booking.status == "attended"
    bookings.mark(booking, "no_show", clerk)
    booking.refresh_from_db()
    assert booking.status == "no_show"
    with pytest.raises(bookings.BookingError):
        bookings.mark(booking, "cancelled", clerk)


def test_free_slots_hide_full_soon_and_far(resident: Any, settings: Any) -> None:
    settings.BOOKING_DAYS_AHEAD = 20
    service = make_service()
    free = make_slot(service, starts_in=dt.timedelta(days=2))
    full = make_slot(service, starts_in=dt.timedelta(days=2, hours=1), capacity=1)
    bookings.book(full.pk, resident)
    make_slot(service, starts_in=dt.timedelta(hours=1))
    make_slot(service, starts_in=dt.timedelta(days=25))
    today = bookings.local_today()
    found = bookings.free_slots(service, day_from=today, day_to=today + dt.timedelta(days=40))
    assert [s.pk for s in found] == [free.pk]


def test_generate_slots_is_idempotent() -> None:
    service = make_service()
    place = make_place()
    days = [bookings.local_today() + dt.timedelta(days=d) for d in (3, 4)]
    times = [dt.time(9, 0), dt.time(9, 15)]
    assert bookings.generate_slots(service, place, days, times, 2) == 4
    assert bookings.generate_slots(service, place, days, times, 2) == 0
    slot = Slot.objects.order_by("starts_at").first()
    assert slot is not None
    assert timezone.localtime(slot.starts_at).time() == dt.time(9, 0)
    assert slot.ends_at - slot.starts_at == dt.timedelta(minutes=15)
    clerk2 = make_staff("clerk2@city.iga.example", "clerk", "kosodate-shien")
    with pytest.raises(PermissionDenied):
        bookings.generate_slots(service, place, days, times, 2, user=clerk2)


def test_reminders_are_sent_once(
    smtp_server: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from cityhall.people.models import Consent

    settings.BOOKING_REMINDER_HOURS = 24
    hanako = make_resident(preferred_language="en", channels=["email", "inbox"])
    Consent.objects.create(user=hanako, purpose="notify", granted=True)
    soon = make_slot(starts_in=dt.timedelta(hours=20))
    later = make_slot(soon.service, starts_in=dt.timedelta(days=3))
    first = bookings.book(soon.pk, hanako, notify=False)
    bookings.book(later.pk, hanako, notify=False)
    assert list(bookings.reminders_due()) == [first]
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings.send_reminders() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings.send_reminders() == 0
    first.refresh_from_db()
    assert first.reminded_at is not None
    assert len(smtp_server.messages) == 1
    mail = smtp_server.last_to("hanako@example.jp")
    assert "Reminder" in str(mail["Subject"])
    assert InboxItem.objects.filter(user=hanako, kind="booking").count() == 1


def test_confirmation_mail_with_calendar_file(
    smtp_server: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.SITE_URL = "https://city.example"
    hanako = make_resident(preferred_language="en")
    slot = make_slot()
    with django_capture_on_commit_callbacks(execute=True):
        booking = bookings.book(slot.pk, hanako)
    mail = smtp_server.last_to("hanako@example.jp")
    assert "Counter visit" in str(mail["Subject"])
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and booking.reference in body.get_content()
    calendars = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    assert calendars[0].get_filename() == f"{booking.reference}.ics"
    text = calendars[0].get_payload(decode=True).decode("utf-8")
    assert f"UID:{booking.reference}@city.example\r\n" in text
    assert "METHOD:REQUEST\r\n" in text
    with django_capture_on_commit_callbacks(execute=True):
        bookings.cancel(booking, hanako)
    cancelled = smtp_server.messages[-1]
    text = next(cancelled.iter_attachments()).get_payload(decode=True).decode("utf-8")
    assert "METHOD:CANCEL\r\n" in text and "STATUS:CANCELLED\r\n" in text
    assert "SEQUENCE:1\r\n" in text


def test_placeholder_addresses_get_no_mail(
    smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    counter_made = make_resident("counter-123@residents.invalid")
    with django_capture_on_commit_callbacks(execute=True):
        bookings.book(make_slot().pk, counter_made)
    assert smtp_server.messages == []


def test_existing_mail_callers_still_work(
    smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from cityhall.core.mail import queue_email

    with django_capture_on_commit_callbacks(execute=True):
        queue_email(
            "hanako@example.jp",
            "inquiries/email/booking_reminder",
            {"reference": "B-AAAAAA", "service_name": "x", "when": "y", "minutes": 15},
            "ja",
        )
    mail = smtp_server.last_to("hanako@example.jp")
    assert list(mail.iter_attachments()) == []


def test_mypage_overview_lists_upcoming(resident: Any) -> None:
    booking = bookings.book(make_slot().pk, resident)
    overview = bookings.mypage_overview(resident)
    assert overview["count"] == 1 and overview["upcoming"] == [booking]
    assert bookings.mypage_overview(make_resident("x@example.jp"))["count"] == 0
