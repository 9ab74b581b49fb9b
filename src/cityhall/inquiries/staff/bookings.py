"""Staff pages of bookings (予約): the day list for the counter, slots, one booking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cityhall.inquiries import permissions
from cityhall.inquiries.forms_booking import DayForm, GenerateSlotsForm
from cityhall.inquiries.models import Booking
from cityhall.inquiries.services import bookings
from cityhall.people.staff_views import sections

SECTION = "inqstaff:bookings"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"inquiries/staff/bookings/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_manage_bookings(request.user):
        raise PermissionDenied


def day_list(request: HttpRequest) -> HttpResponse:
    _check(request)
    today = bookings.local_today()
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("day"):
        data["day"] = today.isoformat()
    form = DayForm(data, initial={"day": today})
    day, place = today, None
    status = 200
    if data is not None:
        if form.is_valid():
            day, place = form.cleaned_data["day"], form.cleaned_data["place"]
        else:
            status = 422
    rows = bookings.day_list(request.user, day, place, request=request) if status == 200 else []
    return _render(
        request,
        "day.html",
        {
            "form": form,
            "day": day,
            "place": place,
            "rows": rows,
            "previous": (day - dt.timedelta(days=1)).isoformat(),
            "next": (day + dt.timedelta(days=1)).isoformat(),
            "here": request.get_full_path(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def slots(request: HttpRequest) -> HttpResponse:
    _check(request)
    user = request.user
    form = GenerateSlotsForm(request.POST or None, user=user)
    created: int | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            created = bookings.generate_slots(
                data["service"],
                data["place"],
                form.days(),
                data["times"],
                data["capacity"],
                data.get("staff"),
                user=user,
                request=request,
            )
            query = f"?service={data['service'].slug}&from={data['day_from'].isoformat()}"
            return redirect(reverse("inqstaff:booking_slots") + query + f"&created={created}")
        status = 422
    services = list(bookings.managed_services(user))
    language = get_language() or "ja"
    chosen = next((s for s in services if s.slug == request.GET.get("service")), None)
    if chosen is None and services:
        chosen = services[0]
    try:
        start = dt.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        start = bookings.local_today()
    end = start + dt.timedelta(days=13)
    listed = bookings.staff_slots(user, chosen, start, end) if chosen else []
    raw_created = request.GET.get("created", "")
    return _render(
        request,
        "slots.html",
        {
            "form": form,
            "services": [(s, s.name(language)) for s in services],
            "chosen": chosen,
            "chosen_name": chosen.name(language) if chosen else "",
            "slots": [(s, s.place.name(language)) for s in listed],
            "start": start,
            "end": end,
            "created": int(raw_created) if raw_created.isdigit() else created,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request)
    try:
        booking = bookings.staff_booking(
            request.user, pk, request=request, audited=request.method == "GET"
        )
    except Booking.DoesNotExist:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "cancel":
                bookings.cancel(booking, request.user, request, reason="staff")
            elif action in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
                bookings.mark(booking, action, request.user, request)
            else:
                raise bookings.BookingError(_("Choose an action."), "action")
        except bookings.BookingError as refusal:
            error = refusal.messages[0]
        else:
            back = request.POST.get("next", "")
            if back and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(back)
            return redirect("inqstaff:booking", pk=booking.pk)
    language = get_language() or "ja"
    slot = booking.slot
    return _render(
        request,
        "detail.html",
        {
            "booking": booking,
            "service_name": slot.service.name(language),
            "place_name": slot.place.name(language),
            "interpreter": bookings.language_name(booking.interpreter_language)
            if booking.interpreter_language
            else "",
            "error": error,
            "day": timezone.localtime(slot.starts_at, bookings.TOKYO).date(),
        },
        status=422 if error else 200,
    )
