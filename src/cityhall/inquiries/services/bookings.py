"""Bookings (予約): counter visits (来庁予約) and consultations (相談).

Every state change runs in a transaction and writes an audit entry. A place in a slot is
taken with ONE conditional UPDATE (``booked < capacity``) whose row count decides: two
residents booking the last place at the same moment cannot both get it, on SQLite and on
PostgreSQL alike; the check constraint ``slot_not_overbooked`` is the last guard.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.core.i18n import html_lang
from cityhall.core.mail import queue_email
from cityhall.inquiries import permissions
from cityhall.inquiries.models import Booking, BookingService, Place, Slot
from cityhall.inquiries.services import ics
from cityhall.notices.models import InboxItem
from cityhall.notices.services import preferences
from cityhall.people.models import Consent
from cityhall.people.services import accounts

TOKYO = ZoneInfo("Asia/Tokyo")
#: Reference characters: no 0/O, 1/I/L, so a reference read over the phone is unambiguous.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6


class BookingError(ValidationError):
    """A booking or cancellation refused; the message is in the user's language."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)
        self.reason = code


# --- reading -------------------------------------------------------------------------------


def active_services() -> QuerySet[BookingService]:
    return BookingService.objects.filter(active=True).select_related("department")


def get_service(slug: str) -> BookingService:
    """An active service; ``BookingService.DoesNotExist`` otherwise."""
    return active_services().get(slug=slug)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), TOKYO).date()


def last_bookable_day(now: dt.datetime | None = None) -> dt.date:
    return local_today(now) + dt.timedelta(days=settings.BOOKING_DAYS_AHEAD)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=TOKYO)


def free_slots(
    service: BookingService,
    *,
    day_from: dt.date,
    day_to: dt.date,
    place: Place | None = None,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """Slots of ``service`` with a free place between ``day_from`` and ``day_to`` (both
    included, local days) that a resident can still book now (after the cutoff, within
    ``BOOKING_DAYS_AHEAD``)."""
    now = now or timezone.now()
    day_to = min(day_to, last_bookable_day(now))
    if day_to < day_from:
        return []
    slots = Slot.objects.filter(
        service=service,
        active=True,
        place__active=True,
        booked__lt=F("capacity"),
        starts_at__gte=_day_start(day_from),
        starts_at__gt=now + dt.timedelta(hours=service.cutoff_hours),
        starts_at__lt=_day_start(day_to + dt.timedelta(days=1)),
    ).select_related("place", "service")
    if place is not None:
        slots = slots.filter(place=place)
    return list(slots.order_by("starts_at", "place__code", "pk"))


@dataclass
class Day:
    day: dt.date
    slots: list[Slot] = field(default_factory=list)


def group_by_day(slots: Iterable[Slot]) -> list[Day]:
    days: dict[dt.date, Day] = {}
    for slot in slots:
        day = timezone.localtime(slot.starts_at, TOKYO).date()
        days.setdefault(day, Day(day)).slots.append(slot)
    return list(days.values())


def resident_bookings(user: Any) -> QuerySet[Booking]:
    """The resident's own bookings, and nobody else's."""
    return Booking.objects.filter(resident=user).select_related(
        "slot", "slot__service", "slot__place"
    )


def resident_booking(user: Any, reference: str) -> Booking:
    """One of the resident's own bookings; ``Booking.DoesNotExist`` for any other."""
    return resident_bookings(user).get(reference=reference.upper())


def mypage_overview(user: Any) -> dict[str, Any]:
    """What my page shows of the resident's bookings (upcoming first)."""
    upcoming = list(
        resident_bookings(user)
        .filter(status=Booking.Status.BOOKED, slot__starts_at__gte=timezone.now())
        .order_by("slot__starts_at")[:5]
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    for booking in upcoming:
        booking.service_name = booking.slot.service.name(language)  # type: ignore[attr-defined]
    count = (
        resident_bookings(user)
        .filter(status=Booking.Status.BOOKED, slot__starts_at__gte=timezone.now())
        .count()
    )
    return {"upcoming": upcoming, "count": count}


def can_cancel(booking: Booking, now: dt.datetime | None = None) -> bool:
    """Whether the resident may still cancel online (before the service's cutoff)."""
    now = now or timezone.now()
    return booking.status == Booking.Status.BOOKED and now < booking.slot.starts_at - dt.timedelta(
        hours=booking.slot.service.cutoff_hours
    )


# --- booking -------------------------------------------------------------------------------


def new_reference() -> str:
    return "B-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def check_bookable(slot: Slot, resident: Any, interpreter_language: str, now: dt.datetime) -> None:
    """Every rule but the capacity (which the conditional UPDATE decides); raises
    :class:`BookingError`."""
    service = slot.service
    if not (slot.active and service.active and slot.place.active):
        raise BookingError(_("This time can no longer be booked."), "inactive")
    if slot.starts_at <= now:
        raise BookingError(_("This time is in the past."), "past")
    if slot.starts_at - dt.timedelta(hours=service.cutoff_hours) <= now:
        raise BookingError(
            _(
                "This time is too soon to book online: book at least %(hours)s hours ahead, "
                "or call us."
            )
            % {"hours": service.cutoff_hours},
            "cutoff",
        )
    if timezone.localtime(slot.starts_at, TOKYO).date() > last_bookable_day(now):
        raise BookingError(
            _("You can book at most %(days)s days ahead.") % {"days": settings.BOOKING_DAYS_AHEAD},
            "too_far",
        )
    if interpreter_language and interpreter_language not in (service.interpreter_languages or []):
        raise BookingError(_("An interpreter for this language is not offered."), "language")
    if Booking.objects.filter(slot=slot, resident=resident, status=Booking.Status.BOOKED).exists():
        raise BookingError(_("You have already booked this time."), "already_booked")


def take_place(slot_id: int) -> bool:
    """Take one place of the slot: ONE conditional UPDATE; True when a place was free."""
    return (
        Slot.objects.filter(pk=slot_id, booked__lt=F("capacity"), active=True).update(
            booked=F("booked") + 1
        )
        == 1
    )


def book(
    slot_id: int,
    resident: Any,
    *,
    interpreter_language: str = "",
    note: str = "",
    request: Any = None,
    notify: bool = True,
) -> Booking:
    """Book one place of ``slot_id`` for ``resident``; raises :class:`BookingError`."""
    now = timezone.now()
    interpreter_language = (interpreter_language or "").strip()
    with transaction.atomic():
        try:
            slot = Slot.objects.select_related("service", "place").get(pk=slot_id)
        except Slot.DoesNotExist:
            raise BookingError(_("This time does not exist."), "missing") from None
        check_bookable(slot, resident, interpreter_language, now)
        # Full when read: refuse without taking the row lock (most refusals at a rush end
        # here). Free when read: the conditional UPDATE decides, under the lock.
        if slot.booked >= slot.capacity or not take_place(slot.pk):
            raise BookingError(_("This time was just taken. Please choose another time."), "full")
        booking = _create_booking(slot, resident, interpreter_language, note.strip(), now)
        audit.record(
            "inquiries.booking.created",
            request=request,
            actor=resident,
            target=booking,
            subject=resident,
            details={
                "reference": booking.reference,
                "slot": slot.pk,
                "service": slot.service.slug,
                "interpreter_language": interpreter_language,
            },
        )
        if notify:
            _notify(booking, "confirmed")
    return booking


def _create_booking(
    slot: Slot, resident: Any, interpreter_language: str, note: str, now: dt.datetime
) -> Booking:
    for _attempt in range(8):
        try:
            with transaction.atomic():
                return Booking.objects.create(
                    reference=new_reference(),
                    slot=slot,
                    resident=resident,
                    interpreter_language=interpreter_language,
                    note=note,
                    created_at=now,
                )
        except IntegrityError:
            # booking_once_per_slot (a second tab booking at the same moment) or, rarely,
            # a reference already given: tell them apart and try another reference.
            if Booking.objects.filter(
                slot=slot, resident=resident, status=Booking.Status.BOOKED
            ).exists():
                raise BookingError(
                    _("You have already booked this time."), "already_booked"
                ) from None
    raise RuntimeError("could not find a free booking reference")


def _free_place(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def cancel(booking: Booking, user: Any, request: Any = None, *, reason: str = "") -> Booking:
    """Cancel a booking: by its resident (before the cutoff) or by staff of its service."""
    now = timezone.now()
    by_staff = bool(getattr(user, "is_staff", False))
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        slot = Slot.objects.select_related("service", "place").get(pk=booking.slot_id)
        booking.slot = slot
        if by_staff:
            if not permissions.can_manage_service(user, slot.service):
                raise PermissionDenied
        elif booking.resident_id != getattr(user, "pk", None):
            raise PermissionDenied
        if booking.status != Booking.Status.BOOKED:
            raise BookingError(_("This booking is not active any more."), "not_active")
        if not by_staff and not can_cancel(booking, now):
            raise BookingError(
                _("It is too late to cancel online. Please call us to cancel this booking."),
                "cutoff",
            )
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.save(update_fields=["status", "cancelled_at"])
        _free_place(slot.pk)
        audit.record(
            "inquiries.booking.cancelled",
            request=request,
            actor=user,
            target=booking,
            subject=booking.resident,
            details={"reference": booking.reference, "by_staff": by_staff, "reason": reason},
        )
        _notify(booking, "cancelled")
    return booking


def mark(booking: Booking, status: str, user: Any, request: Any = None) -> Booking:
    """Staff mark a booking as attended or not attended (no-show)."""
    if status not in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.BOOKED):
        raise BookingError(_("Choose attended or did not come."), "status")
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        service = BookingService.objects.get(slots__pk=booking.slot_id)
        if not permissions.can_manage_service(user, service):
            raise PermissionDenied
        if booking.status == Booking.Status.CANCELLED:
            raise BookingError(_("This booking was cancelled."), "not_active")
        before = booking.status
        booking.status = status
        booking.save(update_fields=["status"])
        audit.record(
            "inquiries.booking.marked",
            request=request,
            actor=user,
            target=booking,
            subject=booking.resident,
            details={"reference": booking.reference, "from": before, "to": status},
        )
    return booking


# --- messages ------------------------------------------------------------------------------


def resident_language(user: Any) -> str:
    profile = accounts.profile_of(user)
    return profile.preferred_language or settings.LANGUAGE_CODE


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "cityhall.invalid"


def booking_url(booking: Booking) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("inquiries:my_booking", args=[booking.reference])


def place_text(place: Place, language: str) -> str:
    return ", ".join(p for p in (place.name(language), place.address) if p)


def ics_text(booking: Booking, language: str | None = None, *, cancelled: bool = False) -> str:
    """The booking as an iCalendar file (METHOD:REQUEST, or CANCEL once cancelled)."""
    language = language or resident_language(booking.resident)
    slot = booking.slot
    service = slot.service
    cancelled = cancelled or booking.status == Booking.Status.CANCELLED
    with translation.override(language):
        description = _("Booking %(reference)s. Details and cancellation: %(url)s") % {
            "reference": booking.reference,
            "url": booking_url(booking),
        }
        if booking.interpreter_language:
            description += "\n" + _("Interpreter: %(language)s") % {
                "language": language_name(booking.interpreter_language)
            }
        summary = f"{service.name(language)} ({settings.MUNICIPALITY_NAME})"
    return ics.calendar(
        ics.Event(
            uid=f"{booking.reference}@{_site_host()}",
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            summary=summary,
            location=place_text(slot.place, language),
            description=description,
            url=booking_url(booking),
            sequence=1 if cancelled else 0,
            cancelled=cancelled,
            stamp=booking.cancelled_at if cancelled and booking.cancelled_at else None,
        )
    )


def language_name(code: str) -> str:
    names = {
        "pt-br": _("Portuguese"),
        "pt": _("Portuguese"),
        "vi": _("Vietnamese"),
        "es": _("Spanish"),
        "en": _("English"),
        "zh-hans": _("Chinese"),
        "zh": _("Chinese"),
        "tl": _("Tagalog"),
    }
    return str(names.get(code, code))


def _may_notify(user: Any) -> bool:
    return bool(accounts.consents(user)[Consent.Purpose.NOTIFY]) and not (
        preferences.personal_muted(user)
    )


def _notify(booking: Booking, what: str) -> None:
    """Confirmation / cancellation / reminder: e-mail with the .ics to the resident's real
    address and an inbox item. The confirmation and cancellation are mail the resident asked
    for (always sent to a real address); the reminder e-mail and the inbox items follow the
    resident's ``notify`` consent and personal mute."""
    user = booking.resident
    if user is None or not user.is_active:
        return
    language = resident_language(user)
    slot = booking.slot
    local_start = timezone.localtime(slot.starts_at, TOKYO)
    cancelled = what == "cancelled"
    with translation.override(language):
        service_name = slot.service.name(language)
        when = local_start.strftime("%Y-%m-%d %H:%M")
        titles = {
            "confirmed": _("Booking confirmed: %(service)s, %(when)s"),
            "cancelled": _("Booking cancelled: %(service)s, %(when)s"),
            "reminder": _("Reminder: %(service)s, %(when)s"),
        }
        title = titles[what] % {"service": service_name, "when": when}
        body = _("Reference %(reference)s. Place: %(place)s.") % {
            "reference": booking.reference,
            "place": place_text(slot.place, language),
        }
        interpreter = language_name(booking.interpreter_language)
    notify_ok = _may_notify(user)
    if notify_ok:
        preferences.add_inbox_item(
            user.pk,
            kind=InboxItem.Kind.BOOKING,
            source_key=f"booking:{booking.reference}:{what}",
            title=title,
            body=body,
            url=reverse("inquiries:my_booking", args=[booking.reference]),
        )
    if not user.has_real_email or (what == "reminder" and not notify_ok):
        return
    calendar = ics_text(booking, language, cancelled=cancelled)
    queue_email(
        user.email,
        f"inquiries/email/booking_{what}",
        {
            "name": user.display_name,
            "reference": booking.reference,
            "service_name": service_name,
            "starts_at": local_start,
            "when": when,
            "minutes": slot.service.minutes,
            "place_name": slot.place.name(language),
            "address": slot.place.address,
            "access": slot.place.access,
            "interpreter": interpreter if booking.interpreter_language else "",
            "url": booking_url(booking),
            "html_lang": html_lang(language),
        },
        language,
        attachments=[
            (
                f"{booking.reference}.ics",
                calendar,
                "text/calendar; method=%s" % ("CANCEL" if cancelled else "REQUEST"),
            )
        ],
    )


# --- reminders -----------------------------------------------------------------------------


def reminders_due(now: dt.datetime | None = None) -> QuerySet[Booking]:
    """Active bookings starting within ``BOOKING_REMINDER_HOURS`` not yet reminded."""
    now = now or timezone.now()
    return Booking.objects.filter(
        status=Booking.Status.BOOKED,
        reminded_at__isnull=True,
        slot__starts_at__gt=now,
        slot__starts_at__lte=now + dt.timedelta(hours=settings.BOOKING_REMINDER_HOURS),
    ).select_related("slot", "slot__service", "slot__place", "resident")


def send_reminders(now: dt.datetime | None = None) -> int:
    """Remind each due booking once (``reminded_at`` is claimed by a conditional UPDATE, so
    two runs side by side send nothing twice). Returns how many were reminded."""
    now = now or timezone.now()
    sent = 0
    for booking in reminders_due(now):
        with transaction.atomic():
            claimed = Booking.objects.filter(
                pk=booking.pk, reminded_at__isnull=True, status=Booking.Status.BOOKED
            ).update(reminded_at=now)
            if not claimed:
                continue
            audit.record(
                "inquiries.booking.reminded",
                target=booking,
                subject=booking.resident,
                details={"reference": booking.reference},
            )
            _notify(booking, "reminder")
        sent += 1
    return sent


# --- staff ---------------------------------------------------------------------------------


def managed_services(user: Any) -> QuerySet[BookingService]:
    services = BookingService.objects.select_related("department")
    if permissions.is_admin(user):
        return services
    return services.filter(department_id__in=permissions.department_ids(user))


def generate_slots(
    service: BookingService,
    place: Place,
    days: Iterable[dt.date],
    times: Iterable[dt.time],
    capacity: int,
    staff: Any = None,
    *,
    user: Any = None,
    request: Any = None,
) -> int:
    """Create the slots of ``service`` at ``place`` for every day × time (local times);
    slots that exist already are kept as they are. Returns how many were created."""
    if capacity < 1:
        raise BookingError(_("Capacity must be at least 1."), "capacity")
    if user is not None and not permissions.can_manage_service(user, service):
        raise PermissionDenied
    wanted = sorted(
        {dt.datetime.combine(day, moment, tzinfo=TOKYO) for day in days for moment in times}
    )
    if not wanted:
        return 0
    length = dt.timedelta(minutes=service.minutes)
    with transaction.atomic():
        existing_q = Slot.objects.filter(service=service, place=place, starts_at__in=wanted)
        existing_q = (
            existing_q.filter(staff=staff)
            if staff is not None
            else existing_q.filter(staff__isnull=True)
        )
        existing = set(existing_q.values_list("starts_at", flat=True))
        new = [
            Slot(
                service=service,
                place=place,
                staff=staff,
                starts_at=start,
                ends_at=start + length,
                capacity=capacity,
            )
            for start in wanted
            if start not in existing
        ]
        Slot.objects.bulk_create(new, ignore_conflicts=True)
        if new:
            audit.record(
                "inquiries.booking.slots_generated",
                request=request,
                actor=user,
                target=service,
                details={
                    "place": place.code,
                    "created": len(new),
                    "first": new[0].starts_at.isoformat(),
                    "last": new[-1].starts_at.isoformat(),
                    "capacity": capacity,
                },
            )
    return len(new)


def staff_slots(
    user: Any, service: BookingService, day_from: dt.date, day_to: dt.date
) -> list[Slot]:
    if not permissions.can_manage_service(user, service):
        raise PermissionDenied
    return list(
        Slot.objects.filter(
            service=service,
            starts_at__gte=_day_start(day_from),
            starts_at__lt=_day_start(day_to + dt.timedelta(days=1)),
        ).select_related("place", "staff")
    )


@dataclass
class DayRow:
    booking: Booking
    starts_at: dt.datetime
    service_name: str
    place_name: str
    resident_name: str
    interpreter: str
    note: str
    status: str
    status_label: str


def day_list(
    user: Any, day: dt.date, place: Place | None = None, request: Any = None
) -> list[DayRow]:
    """The day's bookings of the services the user manages, for the counter. Reading it is
    audited once per view (it shows residents' names and notes)."""
    if not permissions.can_manage_bookings(user):
        raise PermissionDenied
    language = translation.get_language() or settings.LANGUAGE_CODE
    bookings = (
        Booking.objects.filter(
            slot__service__in=managed_services(user),
            slot__starts_at__gte=_day_start(day),
            slot__starts_at__lt=_day_start(day + dt.timedelta(days=1)),
        )
        .filter(~Q(status=Booking.Status.CANCELLED))
        .select_related("slot", "slot__service", "slot__place", "resident")
        .order_by("slot__starts_at", "slot__place__code", "pk")
    )
    if place is not None:
        bookings = bookings.filter(slot__place=place)
    rows = [
        DayRow(
            booking=b,
            starts_at=timezone.localtime(b.slot.starts_at, TOKYO),
            service_name=b.slot.service.name(language),
            place_name=b.slot.place.name(language),
            resident_name=b.resident.display_name or b.resident.email,
            interpreter=language_name(b.interpreter_language) if b.interpreter_language else "",
            note=b.note,
            status=b.status,
            status_label=str(b.get_status_display()),
        )
        for b in bookings
    ]
    audit.record(
        "inquiries.booking.day_list_viewed",
        request=request,
        actor=user,
        target_type="inquiries.booking_day",
        target_id=day.isoformat(),
        details={"day": day.isoformat(), "place": place.code if place else "", "rows": len(rows)},
    )
    return rows


def staff_booking(user: Any, pk: int, request: Any = None, *, audited: bool = True) -> Booking:
    """One booking for staff of its service (the read is audited: it shows a resident's
    name and note); PermissionDenied otherwise."""
    booking = Booking.objects.select_related(
        "slot", "slot__service", "slot__place", "resident"
    ).get(pk=pk)
    if not permissions.can_manage_service(user, booking.slot.service):
        raise PermissionDenied
    if not audited:
        return booking
    audit.record(
        "inquiries.booking.viewed",
        request=request,
        actor=user,
        target=booking,
        subject=booking.resident,
        details={"reference": booking.reference},
    )
    return booking


# --- seed data -----------------------------------------------------------------------------

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "bookings.json"

#: Local start times of the demo slots per kind of service.
DEMO_TIMES: dict[str, list[str]] = {
    "counter": [f"{h:02d}:{m:02d}" for h in (9, 10, 11, 13, 14, 15, 16) for m in (0, 15, 30, 45)],
    "childcare": ["10:00", "11:00", "14:00", "15:00"],
    "care": ["10:00", "11:00", "14:00", "15:00"],
    "foreign": ["10:00", "11:00", "14:00", "15:00"],
    "digital": ["10:00", "14:00"],
}

#: Demo bookings: (resident e-mail, service slug, working day index, interpreter, note).
DEMO_BOOKINGS = [
    ("resident@example.jp", "kosodate-sodan", 2, "", "保育園の入園について"),
    ("resident@example.jp", "raicho", 4, "", ""),
    ("elder@example.jp", "kaigo-sodan", 3, "", "要介護認定の申請について"),
    ("maria@example.jp", "gaikokujin-sodan", 1, "pt-br", "Documentos para a escola do meu filho"),
    ("lan@example.jp", "gaikokujin-sodan", 5, "vi", ""),
    ("easy@example.jp", "smartphone-sodan", 2, "", "マイナンバーカードを スマホで つかいたい"),
]


def seed_catalogue(path: Path | None = None) -> dict[str, int]:
    """Places and services from ``data/bookings.json`` (upsert by code / slug)."""
    from cityhall.people.models import Department

    data = json.loads((path or DATA_FILE).read_text(encoding="utf-8"))
    counts = {"places": 0, "services": 0}
    with transaction.atomic():
        for row in data["places"]:
            _, created = Place.objects.update_or_create(
                code=row["code"],
                defaults={
                    "names": row["names"],
                    "address": row.get("address", ""),
                    "access": row.get("access", ""),
                },
            )
            counts["places"] += int(created)
        for row in data["services"]:
            department = Department.objects.filter(code=row["department"]).first()
            if department is None:
                continue
            _, created = BookingService.objects.update_or_create(
                slug=row["slug"],
                defaults={
                    "kind": row["kind"],
                    "department": department,
                    "names": row["names"],
                    "descriptions": row.get("descriptions", {}),
                    "minutes": row["minutes"],
                    "interpreter_languages": row.get("interpreter_languages", []),
                },
            )
            counts["services"] += int(created)
    return counts


def working_days(start: dt.date, count: int) -> list[dt.date]:
    from cityhall.procedures.services.cases import is_working_day

    days: list[dt.date] = []
    day = start
    while len(days) < count:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days.append(day)
    return days


def seed_demo(days: int = 14, now: dt.datetime | None = None) -> dict[str, int]:
    """Slots for the next ``days`` working days and a few demo bookings (idempotent)."""
    from cityhall.people.models import User

    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    plan = {row["slug"]: row for row in data["services"]}
    dates = working_days(local_today(now), days)
    counts = {"slots": 0, "bookings": 0}
    for service in BookingService.objects.filter(slug__in=plan):
        row = plan[service.slug]
        times = [dt.time.fromisoformat(t) for t in DEMO_TIMES.get(service.kind, ["10:00"])]
        for place in Place.objects.filter(code__in=row.get("places", [])):
            counts["slots"] += generate_slots(
                service, place, dates, times, int(row.get("capacity", 1))
            )
    for email, slug, index, language, note in DEMO_BOOKINGS:
        user = User.objects.filter(email=email, is_staff=False).first()
        demo_service = BookingService.objects.filter(slug=slug).first()
        if user is None or demo_service is None or index >= len(dates):
            continue
        if Booking.objects.filter(resident=user, slot__service=demo_service).exists():
            continue
        slot = (
            Slot.objects.filter(
                service=demo_service,
                booked__lt=F("capacity"),
                starts_at__gte=_day_start(dates[index]),
                starts_at__lt=_day_start(dates[index] + dt.timedelta(days=1)),
            )
            .order_by("starts_at", "place__code")
            .first()
        )
        if slot is None:
            continue
        try:
            book(slot.pk, user, interpreter_language=language, note=note, notify=False)
        except BookingError:
            continue
        counts["bookings"] += 1
    return counts
