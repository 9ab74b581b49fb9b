"""Shared data for the preferences, inbox and reminder tests: residents with channels,
interests and consents made straight through the ORM, as the profile page leaves them."""

from __future__ import annotations

from typing import Any

from cityhall.core.models import AuditEvent
from cityhall.people.models import Consent
from tests.conftest import make_resident


def resident(
    email: str = "hanako@example.jp",
    *,
    consents: tuple[str, ...] = ("notify",),
    channels: tuple[str, ...] = ("email", "inbox"),
    interests: tuple[str, ...] = ("garbage",),
    display_name: str = "伊賀 花子",
    **profile: Any,
) -> Any:
    user = make_resident(email, channels=list(channels), interests=list(interests), **profile)
    if display_name:
        user.display_name = display_name
        user.save(update_fields=["display_name"])
    for purpose in consents:
        Consent.objects.create(user=user, purpose=purpose, granted=True)
    return user


def audit_actions(user: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_id=user.pk)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def last_audit(action: str) -> Any:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def english(client: Any) -> Any:
    client.cookies["cityhall_lang"] = "en"
    return client
