"""Booking pages and API: public lists, login to book, full slot error (422, nothing lost),
only own bookings (404), cancel with a confirmation step, .ics download, staff day list
permissions and audit, slot generation, API problem details."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.inquiries.models import Booking, Slot
from cityhall.inquiries.services import bookings
from tests.conftest import login_staff, make_resident, make_staff
from tests.inquiries.test_booking_services import make_service, make_slot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client: Any) -> None:
    client.cookies["cityhall_lang"] = "en"


def test_services_and_free_slots_are_public(client: Any) -> None:
    slot = make_slot()
    page = client.get(reverse("inquiries:booking"))
    assert page.status_code == 200
    assert "Counter visit" in page.content.decode()
    page = client.get(reverse("inquiries:booking_slots", args=["raicho"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("inquiries:booking_book", args=["raicho", slot.pk]) in html
    assert "2 places free" in html


def test_no_free_times_message_and_week_paging(client: Any) -> None:
    make_service()
    later = (bookings.local_today() + dt.timedelta(days=7)).isoformat()
    page = client.get(reverse("inquiries:booking_slots", args=["raicho"]) + f"?from={later}")
    assert page.status_code == 200
    assert "There are no free times in this week." in page.content.decode()
    bad = client.get(reverse("inquiries:booking_slots", args=["raicho"]) + "?from=soon")
    assert bad.status_code == 422


def test_booking_needs_login(client: Any) -> None:
    slot = make_slot()
    page = client.get(reverse("inquiries:booking_book", args=["raicho", slot.pk]))
    assert page.status_code == 302 and "login" in page["Location"]


def test_book_then_see_cancel(resident_client: Any, resident: Any) -> None:
    slot = make_slot()
    url = reverse("inquiries:booking_book", args=["raicho", slot.pk])
    assert resident_client.get(url).status_code == 200
    done = resident_client.post(url, {"note": "転入届"})
    assert done.status_code == 302
    booking = Booking.objects.get(resident=resident)
    page = resident_client.get(done["Location"])
    html = page.content.decode()
    assert booking.reference in html and "Your booking is confirmed" in html
    mine = resident_client.get(reverse("inquiries:my_bookings")).content.decode()
    assert booking.reference in mine
    calendar = resident_client.get(reverse("inquiries:booking_ics", args=[booking.reference]))
    assert calendar["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT\r\n" in calendar.content
    cancel_url = reverse("inquiries:booking_cancel", args=[booking.reference])
    confirm = resident_client.get(cancel_url)
    assert confirm.status_code == 200 and "Yes, cancel the booking" in confirm.content.decode()
    booking.refresh_from_db()
    assert booking.status == "booked"  # the GET only asks
    resident_client.post(cancel_url)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_full_slot_shows_the_error_and_other_times(
    resident_client: Any, other_resident: Any
) -> None:
    slot = make_slot(capacity=1)
    other = make_slot(slot.service, starts_in=dt.timedelta(days=2, hours=1))
    bookings.book(slot.pk, other_resident)
    page = resident_client.post(
        reverse("inquiries:booking_book", args=["raicho", slot.pk]), {"note": "keep me"}
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "There is a problem" in html and "just taken" in html
    assert reverse("inquiries:booking_book", args=["raicho", other.pk]) in html


def test_interpreter_select_for_foreign_residents(resident_client: Any) -> None:
    service = make_service(
        "gaikokujin-sodan",
        kind="foreign",
        department_code="tabunka-kyosei",
        interpreter_languages=["pt-br", "vi"],
    )
    slot = make_slot(service)
    url = reverse("inquiries:booking_book", args=[service.slug, slot.pk])
    html = resident_client.get(url).content.decode()
    assert 'name="interpreter_language"' in html and "Portuguese" in html
    bad = resident_client.post(url, {"interpreter_language": "fr"})
    assert bad.status_code == 422
    assert not Booking.objects.exists()
    resident_client.post(url, {"interpreter_language": "vi"})
    assert Booking.objects.get().interpreter_language == "vi"


def test_only_own_bookings(client: Any, resident: Any, other_resident: Any) -> None:
    booking = bookings.book(make_slot().pk, resident)
    client.force_login(other_resident)
    for name in ("inquiries:my_booking", "inquiries:booking_cancel", "inquiries:booking_ics"):
        assert client.get(reverse(name, args=[booking.reference])).status_code == 404
    assert (
        client.post(reverse("inquiries:booking_cancel", args=[booking.reference])).status_code
        == 404
    )
    booking.refresh_from_db()
    assert booking.status == "booked"
    assert booking.reference not in client.get(reverse("inquiries:my_bookings")).content.decode()


def test_my_page_shows_bookings(resident_client: Any, resident: Any) -> None:
    booking = bookings.book(make_slot().pk, resident)
    html = resident_client.get(reverse("portal:mypage")).content.decode()
    assert "My bookings" in html and booking.reference in html


def test_staff_day_list_permissions_and_audit(client: Any, resident: Any) -> None:
    slot = make_slot(starts_in=dt.timedelta(days=2))
    booking = bookings.book(slot.pk, resident, note="住民票")
    day = bookings.timezone.localtime(slot.starts_at, bookings.TOKYO).date().isoformat()
    url = reverse("inqstaff:bookings") + f"?day={day}"
    outsider = make_staff("clerk2@city.iga.example", "clerk", "kosodate-shien")
    login_staff(client, outsider)
    html = client.get(url).content.decode()
    assert booking.reference not in html  # another department's service
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    login_staff(client, clerk)
    before = AuditEvent.objects.filter(action="inquiries.booking.day_list_viewed").count()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert booking.reference in html and "住民票" in html
    assert (
        AuditEvent.objects.filter(action="inquiries.booking.day_list_viewed").count() == before + 1
    )
    detail = reverse("inqstaff:booking", args=[booking.pk])
    assert client.get(detail).status_code == 200
    assert AuditEvent.objects.filter(action="inquiries.booking.viewed").count() == 1
    client.post(detail, {"action": "attended", "next": url})
    booking.refresh_from_db()
    assert booking.status == "attended"
    login_staff(client, outsider)
    assert client.get(detail).status_code == 403
    assert client.post(detail, {"action": "no_show"}).status_code == 403


def test_residents_cannot_open_staff_pages(resident_client: Any) -> None:
    page = resident_client.get(reverse("inqstaff:bookings"))
    assert page.status_code in (302, 403)


def test_staff_generate_slots(client: Any) -> None:
    service = make_service()
    from tests.inquiries.test_booking_services import make_place

    place = make_place()
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    login_staff(client, clerk)
    url = reverse("inqstaff:booking_slots")
    start = bookings.local_today() + dt.timedelta(days=1)
    data = {
        "service": service.pk,
        "place": place.pk,
        "day_from": start.isoformat(),
        "day_to": (start + dt.timedelta(days=6)).isoformat(),
        "weekdays": ["0", "1", "2", "3", "4"],
        "times": "09:00, 9:30",
        "capacity": "2",
        "skip_closed_days": "on",
    }
    done = client.post(url, data)
    assert done.status_code == 302
    count = Slot.objects.filter(service=service).count()
    assert 2 <= count <= 10 and count % 2 == 0
    client.post(url, data)
    assert Slot.objects.filter(service=service).count() == count
    bad = client.post(url, {**data, "times": "nine"})
    assert bad.status_code == 422 and "There is a problem" in bad.content.decode()
    listing = client.get(url + f"?service=raicho&from={start.isoformat()}").content.decode()
    assert "0 / 2" in listing


def test_staff_generate_slots_for_a_consultant(client: Any) -> None:
    from tests.inquiries.test_booking_services import make_place

    service, place = make_service(), make_place()
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    consultant = make_staff("sodan@city.iga.example", "clerk", "shimin-seikatsu")
    outsider = make_staff("other@city.iga.example", "clerk", "zeimu")
    login_staff(client, clerk)
    start = bookings.local_today() + dt.timedelta(days=1)
    data = {
        "service": service.pk,
        "place": place.pk,
        "day_from": start.isoformat(),
        "day_to": (start + dt.timedelta(days=6)).isoformat(),
        "weekdays": ["0", "1", "2", "3", "4"],
        "times": "13:00",
        "capacity": "1",
    }
    url = reverse("inqstaff:booking_slots")
    refused = client.post(url, {**data, "staff": outsider.pk})
    assert refused.status_code == 422 and not Slot.objects.exists()
    assert client.post(url, {**data, "staff": consultant.pk}).status_code == 302
    assert Slot.objects.exists()
    assert set(Slot.objects.values_list("staff_id", flat=True)) == {consultant.pk}


def test_api_services_and_slots(client: Any) -> None:
    slot = make_slot()
    services = client.get("/api/v1/booking/services").json()
    assert [s["slug"] for s in services] == ["raicho"]
    assert services[0]["names"]["en"] == "Counter visit"
    assert services[0]["places"][0]["code"] == "honcho-shimin"
    today = bookings.local_today()
    answer = client.get(
        f"/api/v1/booking/services/raicho/slots?from={today}&to={today + dt.timedelta(days=6)}"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["from"] == today.isoformat()
    assert [s["id"] for s in body["slots"]] == [slot.pk]
    assert body["slots"][0]["free"] == 2


def test_api_bad_dates_are_problems(client: Any) -> None:
    make_service()
    bad = client.get("/api/v1/booking/services/raicho/slots?from=tomorrow")
    assert bad.status_code == 422
    assert bad["Content-Type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "from"
    backwards = client.get("/api/v1/booking/services/raicho/slots?from=2030-01-10&to=2030-01-01")
    assert backwards.status_code == 422
    assert client.get("/api/v1/booking/services/nothing/slots").status_code == 404


def test_seed_commands_are_idempotent(settings: Any) -> None:
    from django.core.management import call_command

    from cityhall.inquiries.models import BookingService, Place
    from cityhall.people.models import Department

    for code in ("shimin-seikatsu", "kosodate-shien", "kaigo-korei", "tabunka-kyosei", "dx"):
        Department.objects.get_or_create(code=code, defaults={"name": code})
    make_resident("maria@example.jp", preferred_language="pt-br")
    call_command("seed_demo_bookings", days=3)
    assert Place.objects.count() == 3 and BookingService.objects.count() == 5
    slots, booked = Slot.objects.count(), Booking.objects.count()
    assert slots > 0 and booked == 1
    assert Booking.objects.get().interpreter_language == "pt-br"
    call_command("seed_demo_bookings", days=3)
    assert (Slot.objects.count(), Booking.objects.count()) == (slots, booked)
    foreign = BookingService.objects.get(slug="gaikokujin-sodan")
    assert foreign.interpreter_languages == ["pt-br", "vi", "es", "en", "zh-hans"]
    assert all(len(s.names) == 7 for s in BookingService.objects.all())
