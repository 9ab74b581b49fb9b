"""Shared fixtures of the notices tests: residents with profiles, consents and channels,
templates in all seven languages, staff who send."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from tests.conftest import make_resident, make_staff

LANGUAGES = ["ja", "ja-easy", "pt-br", "vi", "zh-hans", "es", "en"]


def make_notice_resident(
    email: str,
    *,
    district: Any = None,
    language: str = "ja",
    channels: Iterable[str] = ("email",),
    interests: Iterable[str] = ("events",),
    consents: Iterable[str] = ("notify", "emergency"),
    quiet: tuple[dt.time, dt.time] | None = None,
    line: bool = False,
    push: bool = False,
    display_name: str = "",
) -> Any:
    """A resident with a profile, consent rows, and (optionally) LINE, push, quiet hours."""
    from django.utils import timezone

    from cityhall.notices.models import DeliveryPreferences, LineLink, PushSubscription
    from cityhall.people.models import Consent

    user = make_resident(
        email,
        district=district,
        preferred_language=language,
        channels=list(channels),
        interests=list(interests),
    )
    if display_name:
        user.display_name = display_name
        user.save(update_fields=["display_name"])
    for purpose in consents:
        Consent.objects.create(user=user, purpose=purpose, granted=True, created_at=timezone.now())
    if quiet is not None:
        DeliveryPreferences.objects.create(user=user, quiet_start=quiet[0], quiet_end=quiet[1])
    if line:
        LineLink.objects.create(user=user, line_user_id=f"U{user.pk:032x}")
    if push:
        PushSubscription.objects.create(
            user=user,
            endpoint=f"https://push.example.test/{user.pk}",
            p256dh="BNc",
            auth="a",
        )
    return user


@pytest.fixture
def notice_resident() -> Callable[..., Any]:
    """The factory :func:`make_notice_resident` (needs the ``db`` fixture)."""
    return make_notice_resident


def _content(subject: str, body: str) -> dict[str, dict[str, str]]:
    return {
        lang: {"subject": f"[{lang}] {subject}", "body": f"[{lang}] {body}"} for lang in LANGUAGES
    }


def make_template(
    code: str = "news-event",
    *,
    kind: str = "news",
    topic: str = "events",
    subject: str = "((event)) on ((date))",
    body: str = "Dear ((name)), ((event)) is on ((date)).",
    languages: Iterable[str] | None = None,
    is_active: bool = True,
) -> Any:
    from cityhall.notices.models import MessageTemplate

    content = _content(subject, body)
    if languages is not None:
        content = {k: v for k, v in content.items() if k in set(languages)}
    return MessageTemplate.objects.create(
        code=code, name=code, kind=kind, topic=topic, content=content, is_active=is_active
    )


@pytest.fixture
def news_template(db: Any) -> Any:
    """An ``events`` news template in all seven languages: ((name)), ((event)), ((date))."""
    return make_template()


@pytest.fixture
def alert_template(db: Any) -> Any:
    """An emergency template in all seven languages: ((area)), ((shelter))."""
    return make_template(
        "alert-test",
        kind="emergency",
        topic="emergency",
        subject="Evacuate ((area))",
        body="((name)): go to ((shelter)) now.",
    )


@pytest.fixture
def koho(db: Any) -> Any:
    return make_staff("koho@city.iga.example", "clerk", "koho-kocho")


@pytest.fixture
def bosai(db: Any) -> Any:
    return make_staff("bosai@city.iga.example", "clerk", "bosai")
