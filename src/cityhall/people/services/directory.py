"""Read-only look-ups of the city's organisation for the portal."""

from __future__ import annotations

from collections.abc import Iterable

from cityhall.core.models import Facility
from cityhall.people.models import Department


def departments(codes: Iterable[str]) -> list[Department]:
    order = list(codes)
    found = {d.code: d for d in Department.objects.filter(code__in=order, is_active=True)}
    return [found[code] for code in order if code in found]


def city_hall() -> Facility | None:
    return Facility.objects.filter(kind=Facility.Kind.CITY_HALL).first()
