"""Booking pages in a real browser: a keyboard-only booking journey, and axe-core finds
nothing on every booking page (residents' and staff's) at 1280 px and 360 px, where
nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from cityhall.inquiries.models import Booking
from cityhall.inquiries.services import bookings
from tests.conftest import login_staff, make_resident, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_scroll,
    axe_context,
    format_violations,
    press,
    run_axe,
    tab_to,
)
from tests.inquiries.test_booking_services import make_service, make_slot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _clean(page: Any, width: int) -> None:
    violations = run_axe(page)
    assert not violations, f"{page.url}\n{format_violations(violations)}"
    assert_no_horizontal_scroll(page, width)


def test_keyboard_only_booking_journey(browser: Any, live_server: Any, client: Any) -> None:
    slot = make_slot()
    resident = make_resident()
    client.force_login(resident)
    context = axe_context(browser, live_server, client, DESKTOP)
    page = context.new_page()
    page.goto(live_server.url + reverse("inquiries:booking_slots", args=["raicho"]))
    book_url = reverse("inquiries:booking_book", args=["raicho", slot.pk])
    tab_to(page, f'a[href="{book_url}"]')
    press(page, "Enter", navigates=True)
    assert page.url.endswith(book_url)
    tab_to(page, "#id_note")
    page.keyboard.type("転入の手続き")
    tab_to(page, "main button[type=submit]")
    press(page, "Enter", navigates=True)
    booking = Booking.objects.get(resident=resident)
    assert booking.note == "転入の手続き"
    assert booking.reference in page.inner_text("main")
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_booking_pages_pass_axe(
    browser: Any, live_server: Any, client: Any, viewport: dict[str, int]
) -> None:
    foreign = make_service(
        "gaikokujin-sodan",
        kind="foreign",
        department_code="tabunka-kyosei",
        interpreter_languages=["pt-br", "vi"],
        names={"ja": "外国人相談", "en": "Consultation for foreign residents"},
        minutes=60,
    )
    slot = make_slot()
    foreign_slot = make_slot(foreign, starts_in=dt.timedelta(days=3))
    full = make_slot(slot.service, starts_in=dt.timedelta(days=2, hours=2), capacity=1)
    resident = make_resident()
    other = make_resident("taro@example.jp")
    bookings.book(full.pk, other)
    booking = bookings.book(slot.pk, resident, note="住民票\n2通")
    bookings.book(foreign_slot.pk, resident, interpreter_language="pt-br")
    client.force_login(resident)
    width = viewport["width"]

    anon = axe_context(browser, live_server, None, viewport)
    page = anon.new_page()
    for url in (
        reverse("inquiries:booking"),
        reverse("inquiries:booking_slots", args=["raicho"]),
        reverse("inquiries:booking_slots", args=["raicho"])
        + f"?from={(bookings.local_today() + dt.timedelta(days=30)).isoformat()}",
    ):
        page.goto(live_server.url + url)
        _clean(page, width)
    anon.close()

    context = axe_context(browser, live_server, client, viewport)
    page = context.new_page()
    for url in (
        reverse("inquiries:booking_book", args=["gaikokujin-sodan", foreign_slot.pk]),
        reverse("inquiries:my_bookings"),
        reverse("inquiries:my_booking", args=[booking.reference]) + "?new=1",
        reverse("inquiries:booking_cancel", args=[booking.reference]),
        reverse("portal:mypage"),
    ):
        page.goto(live_server.url + url)
        _clean(page, width)
    # The full slot: error summary and the other free times.
    page.goto(live_server.url + reverse("inquiries:booking_book", args=["raicho", full.pk]))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "error-summary" in page.content()
    _clean(page, width)
    context.close()

    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    login_staff(client, clerk)
    staff = axe_context(browser, live_server, client, viewport)
    page = staff.new_page()
    day = bookings.timezone.localtime(slot.starts_at, bookings.TOKYO).date().isoformat()
    for url in (
        reverse("inqstaff:bookings") + f"?day={day}",
        reverse("inqstaff:booking_slots"),
        reverse("inqstaff:booking", args=[booking.pk]),
    ):
        page.goto(live_server.url + url)
        _clean(page, width)
    staff.close()
