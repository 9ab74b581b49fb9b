"""Residents' booking pages (予約): services, free times, confirm, my bookings, cancel, .ics.

The list of services and the free times are public; booking needs a logged-in resident.
A resident sees only their own bookings (404 for any other reference).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cityhall.inquiries.forms_booking import BookForm
from cityhall.inquiries.models import Booking, BookingService, Place, Slot
from cityhall.inquiries.services import bookings
from cityhall.procedures.views.common import language, resident_required

WEEK = dt.timedelta(days=7)


def _service(slug: str) -> BookingService:
    try:
        return bookings.get_service(slug)
    except BookingService.DoesNotExist:
        raise Http404 from None


def _places_of(service: BookingService) -> list[Place]:
    return list(Place.objects.filter(active=True, slots__service=service).distinct())


def services(request: HttpRequest) -> HttpResponse:
    lang = language()
    cards = [
        {
            "service": service,
            "name": service.name(lang),
            "description": service.descriptions.get(lang) or service.descriptions.get("ja", ""),
            "places": [p.name(lang) for p in _places_of(service)],
        }
        for service in bookings.active_services()
    ]
    return render(request, "inquiries/booking/services.html", {"cards": cards})


def _week_start(request: HttpRequest) -> tuple[dt.date, bool]:
    today = bookings.local_today()
    raw = request.GET.get("from", "")
    if not raw:
        return today, False
    try:
        start = dt.date.fromisoformat(raw)
    except ValueError:
        return today, True
    return max(start, today), False


def _slots_context(service: BookingService, start: dt.date) -> dict[str, Any]:
    lang = language()
    end = start + WEEK - dt.timedelta(days=1)
    days = bookings.group_by_day(bookings.free_slots(service, day_from=start, day_to=end))
    today = bookings.local_today()
    last = bookings.last_bookable_day()
    return {
        "service": service,
        "service_name": service.name(lang),
        "days": [
            {
                "day": d.day,
                "slots": [
                    {"slot": s, "place": s.place.name(lang), "free": s.free} for s in d.slots
                ],
            }
            for d in days
        ],
        "week_start": start,
        "week_end": end,
        "previous": (start - WEEK).isoformat() if start > today else "",
        "next": (start + WEEK).isoformat() if start + WEEK <= last else "",
        "is_foreign": bool(service.interpreter_languages),
    }


def slots(request: HttpRequest, service: str) -> HttpResponse:
    booking_service = _service(service)
    start, bad_date = _week_start(request)
    context = _slots_context(booking_service, start)
    context["bad_date"] = bad_date
    return render(request, "inquiries/booking/slots.html", context, status=422 if bad_date else 200)


@resident_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, service: str, slot: int) -> HttpResponse:
    booking_service = _service(service)
    try:
        chosen = Slot.objects.select_related("place", "service").get(
            pk=slot, service=booking_service
        )
    except Slot.DoesNotExist:
        raise Http404 from None
    lang = language()
    form = BookForm(request.POST or None, service=booking_service)
    refusal: bookings.BookingError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            made = bookings.book(
                chosen.pk,
                request.user,
                interpreter_language=form.cleaned_data.get("interpreter_language", ""),
                note=form.cleaned_data.get("note", ""),
                request=request,
            )
        except bookings.BookingError as error:
            refusal = error
            form.add_error(None, error.messages[0])
        else:
            return redirect(reverse("inquiries:my_booking", args=[made.reference]) + "?new=1")
    context: dict[str, Any] = {
        "form": form,
        "slot": chosen,
        "service_name": booking_service.name(lang),
        "place_name": chosen.place.name(lang),
        "address": chosen.place.address,
        "refusal": refusal,
    }
    if refusal is not None:
        # Nothing is lost: the form keeps its input and the free times are shown again.
        local_day = bookings.local_today()
        day = max(timezone.localtime(chosen.starts_at, bookings.TOKYO).date(), local_day)
        context.update(
            {"others": _slots_context(booking_service, day)["days"], "service": booking_service}
        )
    else:
        context["service"] = booking_service
    status = 422 if request.method == "POST" else 200
    return render(request, "inquiries/booking/book.html", context, status=status)


def _own(request: HttpRequest, reference: str) -> Booking:
    try:
        return bookings.resident_booking(request.user, reference)
    except Booking.DoesNotExist:
        raise Http404 from None


def _row(booking: Booking, lang: str) -> dict[str, Any]:
    slot = booking.slot
    return {
        "booking": booking,
        "service_name": slot.service.name(lang),
        "place_name": slot.place.name(lang),
        "address": slot.place.address,
        "access": slot.place.access,
        "interpreter": bookings.language_name(booking.interpreter_language)
        if booking.interpreter_language
        else "",
        "can_cancel": bookings.can_cancel(booking),
    }


@resident_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    lang = language()
    now = timezone.now()
    rows = [_row(b, lang) for b in bookings.resident_bookings(request.user)]
    upcoming = [
        r
        for r in rows
        if r["booking"].status == Booking.Status.BOOKED and r["booking"].slot.starts_at >= now
    ]
    past = [r for r in rows if r not in upcoming]
    past.reverse()
    return render(request, "inquiries/booking/mine.html", {"upcoming": upcoming, "past": past[:20]})


@resident_required
def my_booking(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _own(request, reference)
    context = _row(booking, language())
    context["new"] = request.GET.get("new") == "1"
    context["cancelled_now"] = request.GET.get("cancelled") == "1"
    return render(request, "inquiries/booking/detail.html", context)


@resident_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _own(request, reference)
    context = _row(booking, language())
    if request.method == "POST":
        try:
            bookings.cancel(booking, request.user, request)
        except bookings.BookingError as error:
            context["error"] = error.messages[0]
            return render(request, "inquiries/booking/cancel.html", context, status=422)
        return redirect(reverse("inquiries:my_booking", args=[booking.reference]) + "?cancelled=1")
    return render(request, "inquiries/booking/cancel.html", context)


@resident_required
def ics(request: HttpRequest, reference: str) -> HttpResponse:
    booking = _own(request, reference)
    response = HttpResponse(
        bookings.ics_text(booking, language()).encode("utf-8"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{booking.reference}.ics"'
    return response
