"""Residents: sign-up, e-mail verification, profile and consents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from cityhall.core import audit
from cityhall.core.mail import queue_email
from cityhall.people.models import Consent, ResidentProfile, User

VERIFY_SALT = "cityhall.people.verify-email"


class VerificationError(ValueError):
    """The verification link is broken, expired, or for an address that changed."""


@dataclass
class SignupResult:
    user: User | None
    created: bool


def _verify_token(user: User) -> str:
    return signing.TimestampSigner(salt=VERIFY_SALT).sign(f"{user.pk}:{user.email}")


def verification_url(user: User) -> str:
    return settings.SITE_URL + reverse("people:verify", args=[_verify_token(user)])


def send_verification(user: User) -> None:
    profile = getattr(user, "profile", None)
    language = profile.preferred_language if profile else settings.LANGUAGE_CODE
    queue_email(
        user.email,
        "people/email/verify",
        {"user": user, "url": verification_url(user), "hours": settings.EMAIL_VERIFY_HOURS},
        language,
    )


@transaction.atomic
def sign_up(
    *, email: str, password: str, language: str, request: HttpRequest | None = None
) -> SignupResult:
    """Create a resident account and send the verification link.

    If the address already has an account nothing is created, and the owner of the
    address gets an e-mail saying so: the page the visitor sees is the same, so the
    form cannot be used to find out who has an account.
    """
    email = User.objects.normalize_email(email).lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        queue_email(
            existing.email,
            "people/email/already_registered",
            {
                "login_url": settings.SITE_URL + reverse("people:login"),
                "reset_url": settings.SITE_URL + reverse("people:password_reset"),
            },
            language,
        )
        audit.record("resident.signup_existing", request=request, target=existing, subject=existing)
        return SignupResult(user=None, created=False)
    user = User.objects.create_user(email=email, password=password)
    ResidentProfile.objects.create(user=user, preferred_language=language)
    audit.record("resident.signup", request=request, actor=user, target=user, subject=user)
    send_verification(user)
    return SignupResult(user=user, created=True)


@transaction.atomic
def verify_email(token: str, request: HttpRequest | None = None) -> User:
    max_age = dt.timedelta(hours=settings.EMAIL_VERIFY_HOURS)
    try:
        value = signing.TimestampSigner(salt=VERIFY_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise VerificationError("expired") from exc
    except signing.BadSignature as exc:
        raise VerificationError("invalid") from exc
    pk, _, email = value.partition(":")
    user = User.objects.select_for_update().filter(pk=pk, email=email).first()
    if user is None:
        raise VerificationError("invalid")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        audit.record(
            "resident.email_verified", request=request, actor=user, target=user, subject=user
        )
    return user


def profile_of(user: User) -> ResidentProfile:
    profile, _ = ResidentProfile.objects.get_or_create(user=user)
    return profile


PROFILE_FIELDS = (
    "district",
    "birth_year",
    "children_birth_years",
    "care_in_household",
    "household_size",
    "preferred_language",
    "interests",
    "channels",
    "phone",
    "postal_code",
    "address",
    "furigana",
    "large_text",
)


@transaction.atomic
def update_profile(
    user: User,
    changes: dict[str, Any],
    *,
    display_name: str | None = None,
    request: HttpRequest | None = None,
    actor: User | None = None,
) -> ResidentProfile:
    """Save profile changes; the audit entry names the fields changed, never their values."""
    profile = ResidentProfile.objects.select_for_update().get(pk=profile_of(user).pk)
    changed: list[str] = []
    for name, value in changes.items():
        if name not in PROFILE_FIELDS:
            raise ValueError(f"not a profile field: {name}")
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed.append(name)
    if display_name is not None and display_name != user.display_name:
        user.display_name = display_name
        user.save(update_fields=["display_name"])
        changed.append("display_name")
    if changed:
        profile.save()
        audit.record(
            "resident.profile_update",
            request=request,
            actor=actor or user,
            target=profile,
            subject=user,
            details={"fields": sorted(changed)},
        )
    return profile


def consents(user: User) -> dict[str, bool]:
    """The current state of each purpose (latest row wins; never granted means False)."""
    state = {purpose.value: False for purpose in Consent.Purpose}
    seen: set[str] = set()
    for row in Consent.objects.filter(user=user).order_by("-created_at", "-id"):
        if row.purpose not in seen:
            state[row.purpose] = row.granted
            seen.add(row.purpose)
    return state


@transaction.atomic
def set_consents(
    user: User, granted: Iterable[str], *, request: HttpRequest | None = None
) -> dict[str, bool]:
    """Record a row for every purpose whose state changes; unchanged purposes add nothing."""
    wanted = set(granted)
    unknown = wanted - set(Consent.Purpose.values)
    if unknown:
        raise ValueError(f"unknown consent purposes: {sorted(unknown)}")
    current = consents(user)
    now = timezone.now()
    changes = {}
    for purpose, was in current.items():
        now_granted = purpose in wanted
        if was != now_granted:
            Consent.objects.create(user=user, purpose=purpose, granted=now_granted, created_at=now)
            changes[purpose] = now_granted
    if changes:
        audit.record(
            "resident.consent_change",
            request=request,
            actor=user,
            target=user,
            subject=user,
            details={"changes": changes},
        )
    return {**current, **changes}
