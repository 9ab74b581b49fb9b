"""Booking API (予約): the bookable services and their free times. Public, read-only.

- ``GET /booking/services``: active services with their names in every language, length,
  interpreter languages and the places where they are held;
- ``GET /booking/services/{slug}/slots?from=&to=``: free times between two dates (ISO
  ``YYYY-MM-DD``, both included; default: the next 7 days; at most 31 days).

Bad dates answer RFC 9457 problem details (``/problems/validation-error``, 422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from cityhall.core.problems import problem_response
from cityhall.inquiries.models import BookingService, Place
from cityhall.inquiries.services import bookings
from cityhall.procedures.schemas import Problem

router = Router(tags=["bookings"])

MAX_DAYS = 31


class PlaceOut(Schema):
    code: str
    names: dict[str, str]
    address: str


class BookingServiceOut(Schema):
    slug: str
    kind: str
    names: dict[str, str]
    descriptions: dict[str, str]
    minutes: int
    interpreter_languages: list[str]
    cutoff_hours: int
    places: list[PlaceOut]


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str = Field(description="Place code")
    free: int
    capacity: int


class SlotsOut(Schema):
    service: str
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    slots: list[SlotOut]


class SlotsQuery(Schema):
    date_from: str | None = Field(None, alias="from", description="First day, YYYY-MM-DD.")
    date_to: str | None = Field(None, alias="to", description="Last day, YYYY-MM-DD.")


def _place(place: Place) -> PlaceOut:
    return PlaceOut(code=place.code, names=place.names, address=place.address)


@router.get("/booking/services", response=list[BookingServiceOut], summary="Booking services")
def list_services(request: HttpRequest) -> list[BookingServiceOut]:
    out = []
    for service in bookings.active_services():
        places = Place.objects.filter(active=True, slots__service=service).distinct()
        out.append(
            BookingServiceOut(
                slug=service.slug,
                kind=service.kind,
                names=service.names,
                descriptions=service.descriptions or {},
                minutes=service.minutes,
                interpreter_languages=list(service.interpreter_languages or []),
                cutoff_hours=service.cutoff_hours,
                places=[_place(p) for p in places],
            )
        )
    return out


def _date(value: str | None, default: dt.date) -> dt.date | None:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@router.get(
    "/booking/services/{slug}/slots",
    response={200: SlotsOut, 404: Problem, 422: Problem},
    summary="Free times of a booking service",
    by_alias=True,
)
def list_slots(request: HttpRequest, slug: str, query: Query[SlotsQuery]) -> Any:
    try:
        service = bookings.get_service(slug)
    except BookingService.DoesNotExist:
        raise Http404 from None
    today = bookings.local_today()
    start = _date(query.date_from, today)
    errors = []
    if start is None:
        errors.append({"field": "from", "detail": _("Enter a date like 2026-04-01.")})
    end = _date(query.date_to, (start or today) + dt.timedelta(days=6))
    if end is None:
        errors.append({"field": "to", "detail": _("Enter a date like 2026-04-01.")})
    if start and end and not errors:
        if end < start:
            errors.append({"field": "to", "detail": _("The end date is before the start date.")})
        elif (end - start).days >= MAX_DAYS:
            errors.append(
                {
                    "field": "to",
                    "detail": _("Ask for at most %(days)s days at a time.") % {"days": MAX_DAYS},
                }
            )
    if errors or start is None or end is None:
        return problem_response("validation-error", request, errors=errors)
    slots = bookings.free_slots(service, day_from=start, day_to=end)
    return SlotsOut(
        service=service.slug,
        **{"from": start, "to": end},
        slots=[
            SlotOut(
                id=s.pk,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                place=s.place.code,
                free=s.free,
                capacity=s.capacity,
            )
            for s in slots
        ],
    )
