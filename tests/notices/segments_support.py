"""Helpers for the segment tests: a small city and residents built straight through the
models (profile facets, consent rows in order, LINE links, push subscriptions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests.conftest import make_resident, make_staff

#: Ages are counted against this day's year in the service tests.
TODAY = dt.date(2026, 6, 1)
YEAR = TODAY.year


@dataclass
class City:
    ueno: Any
    aoyama: Any
    ueno_tobu: Any
    ueno_seibu: Any
    aoyama_hokubu: Any


def build_city() -> City:
    """Two areas; Ueno has two districts, Aoyama one (needs the ``db`` fixture)."""
    from cityhall.core.models import Area, District

    ueno = Area.objects.create(
        code="ueno", name="上野", kana="うえの", names={"en": "Ueno"}, order=1
    )
    aoyama = Area.objects.create(
        code="aoyama", name="青山", kana="あおやま", names={"en": "Aoyama"}, order=6
    )
    return City(
        ueno=ueno,
        aoyama=aoyama,
        ueno_tobu=District.objects.create(
            code="ueno-tobu", name="上野東部", names={"en": "Ueno East"}, area=ueno, order=1
        ),
        ueno_seibu=District.objects.create(
            code="ueno-seibu", name="上野西部", names={"en": "Ueno West"}, area=ueno, order=2
        ),
        aoyama_hokubu=District.objects.create(
            code="aoyama-hokubu",
            name="青山北部",
            names={"en": "Aoyama North"},
            area=aoyama,
            order=1,
        ),
    )


_counter = {"n": 0}


def person(
    email: str | None = None,
    *,
    consents: tuple[str, ...] = ("notify",),
    display_name: str = "",
    **profile: Any,
) -> Any:
    """A resident with a profile and granted consent rows for ``consents``."""
    from cityhall.people.models import Consent

    if email is None:
        _counter["n"] += 1
        email = f"resident{_counter['n']:04d}@example.jp"
    user = make_resident(email, **profile)
    if display_name:
        user.display_name = display_name
        user.save(update_fields=["display_name"])
    now = timezone.now() - dt.timedelta(days=10)
    for purpose in consents:
        Consent.objects.create(user=user, purpose=purpose, granted=True, created_at=now)
    return user


def consent(user: Any, purpose: str, granted: bool, *, days_ago: float = 0) -> Any:
    """Add a consent row ``days_ago`` days back (a later row wins)."""
    from cityhall.people.models import Consent

    return Consent.objects.create(
        user=user,
        purpose=purpose,
        granted=granted,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def link_line(user: Any, *, blocked: bool = False) -> Any:
    from cityhall.notices.models import LineLink

    return LineLink.objects.create(
        user=user,
        line_user_id=f"U{user.pk:032x}",
        blocked_at=timezone.now() if blocked else None,
    )


def subscribe_push(user: Any, number: int = 0) -> Any:
    from cityhall.notices.models import PushSubscription

    return PushSubscription.objects.create(
        user=user,
        endpoint=f"https://push.example.test/{user.pk}/{number}",
        p256dh="BNc",
        auth="a",
    )


def koho_clerk(email: str = "koho-segments@city.iga.example") -> Any:
    """A clerk of the public-relations department (広報広聴課): may build segments."""
    return make_staff(email, "clerk", "koho-kocho")


def other_clerk(email: str = "zeimu-segments@city.iga.example") -> Any:
    """A clerk of another department: may not."""
    return make_staff(email, "clerk", "zeimu")
