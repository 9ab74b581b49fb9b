"""A resident's notification settings: channels, topics, quiet hours, consents, links.

Where each setting lives (nothing is stored twice):

- channels chosen and interest topics — the profile (``people.services.accounts``);
- the ``notify`` and ``emergency`` consents — consent rows (``accounts.set_consents``);
- quiet hours and the topics that are not interests (``personal``) switched off —
  :class:`~cityhall.notices.models.DeliveryPreferences`;
- the LINE account and the browsers' push subscriptions — :class:`LineLink`,
  :class:`PushSubscription`.

Quiet hours hold back everything except emergency alerts. One-click unsubscribe
(RFC 8058) turns one topic off for the resident named in a signed token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.notices.models import (
    CHANNELS,
    EMERGENCY,
    PERSONAL,
    TOPICS,
    DeliveryPreferences,
    InboxItem,
    LineLink,
    Message,
    PushSubscription,
)
from cityhall.notices.services.common import UnsubscribeRequest, read_unsubscribe_token
from cityhall.people.models import Channel, Consent, Interest, User
from cityhall.people.services import accounts

INTEREST_TOPICS = [value for value in Interest.values]
#: Topics the resident switches on and off on the settings page (emergency alerts follow
#: the emergency consent instead).
SWITCHABLE_TOPICS = [*INTEREST_TOPICS, PERSONAL]
#: Channels the resident chooses; the in-app inbox is always on.
CHOOSABLE_CHANNELS = [Channel.EMAIL.value, Channel.LINE.value, Channel.PUSH.value]


class PreferencesError(ValueError):
    """Settings that cannot be saved; ``errors`` maps a field to translated messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(m for messages in errors.values() for m in messages))


def _preferences(user: Any) -> DeliveryPreferences:
    prefs, _created = DeliveryPreferences.objects.get_or_create(user=user)
    return prefs


def muted_topics(user: Any) -> list[str]:
    prefs = DeliveryPreferences.objects.filter(user=user).first()
    return list(prefs.muted_topics) if prefs else []


def personal_muted(user: Any) -> bool:
    return PERSONAL in muted_topics(user)


def line_link(user: Any) -> LineLink | None:
    return LineLink.objects.filter(user=user).first()


def settings_for(user: User) -> dict[str, Any]:
    """What the settings page shows: choices, what is linked, topics, quiet hours, consents."""
    profile = accounts.profile_of(user)
    prefs = DeliveryPreferences.objects.filter(user=user).first()
    muted = list(prefs.muted_topics) if prefs else []
    link = line_link(user)
    consent = accounts.consents(user)
    interests = [value for value in profile.interests if value in INTEREST_TOPICS]
    topics = interests + ([] if PERSONAL in muted else [PERSONAL])
    return {
        "channels": [value for value in profile.channels if value in CHANNELS],
        "email": {
            "address": user.email,
            "real": user.has_real_email,
            "verified": user.email_verified,
        },
        "line": {
            "linked": link is not None,
            "display_name": link.display_name if link else "",
            "blocked": bool(link and link.blocked_at),
        },
        "push": {"subscriptions": PushSubscription.objects.filter(user=user).count()},
        "topics": topics,
        "muted_topics": muted,
        "quiet_start": prefs.quiet_start if prefs else None,
        "quiet_end": prefs.quiet_end if prefs else None,
        "consents": {"notify": consent[Consent.Purpose.NOTIFY], "emergency": consent["emergency"]},
        "district": profile.district,
    }


def validate_settings(
    user: User,
    *,
    channels: list[str],
    topics: list[str],
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
) -> dict[str, list[str]]:
    """Field → messages for everything wrong (empty when the settings can be saved)."""
    errors: dict[str, list[str]] = {}
    unknown_channels = sorted(set(channels) - set(CHANNELS))
    if unknown_channels:
        errors.setdefault("channels", []).append(
            _("Unknown channel: %(names)s.") % {"names": ", ".join(unknown_channels)}
        )
    if Channel.EMAIL in channels and not user.has_real_email:
        errors.setdefault("channels", []).append(
            _(
                "Your account has no e-mail address to send to. "
                "Add one first, or choose another way."
            )
        )
    if Channel.LINE in channels and line_link(user) is None:
        errors.setdefault("channels", []).append(
            _("Link your LINE account first (use “Link LINE”), then choose LINE.")
        )
    unknown_topics = sorted(set(topics) - set(SWITCHABLE_TOPICS))
    if unknown_topics:
        errors.setdefault("topics", []).append(
            _("Unknown topic: %(names)s.") % {"names": ", ".join(unknown_topics)}
        )
    if (quiet_start is None) != (quiet_end is None):
        field = "quiet_end" if quiet_end is None else "quiet_start"
        errors.setdefault(field, []).append(
            _("Enter both the start and the end of your quiet hours, or leave both empty.")
        )
    elif quiet_start is not None and quiet_start == quiet_end:
        errors.setdefault("quiet_end", []).append(
            _("Quiet hours must end at a different time than they start.")
        )
    return errors


def save_settings(
    user: User,
    *,
    channels: list[str],
    topics: list[str],
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    emergency: bool,
    notify: bool | None = None,
    request: HttpRequest | None = None,
) -> list[str]:
    """Save everything at once (or nothing: :class:`PreferencesError`); returns the names of
    the fields that changed. ``notify=None`` keeps the notify consent as it is."""
    errors = validate_settings(
        user, channels=channels, topics=topics, quiet_start=quiet_start, quiet_end=quiet_end
    )
    if errors:
        raise PreferencesError(errors)
    with transaction.atomic():
        profile = accounts.profile_of(user)
        wanted_channels = [c for c in CHANNELS if c in channels or c == Channel.INBOX]
        # Interests the page does not know (none today) are kept as they are.
        kept = [i for i in profile.interests if i not in INTEREST_TOPICS]
        wanted_interests = [*kept, *[t for t in INTEREST_TOPICS if t in topics]]
        changed: list[str] = []
        profile_changes: dict[str, Any] = {}
        if list(profile.channels) != wanted_channels:
            profile_changes["channels"] = wanted_channels
        if list(profile.interests) != wanted_interests:
            profile_changes["interests"] = wanted_interests
        if profile_changes:
            accounts.update_profile(user, profile_changes, request=request)
            changed.extend(profile_changes)

        current = accounts.consents(user)
        granted = {purpose for purpose, on in current.items() if on}
        wanted = set(granted)
        wanted.discard(Consent.Purpose.EMERGENCY)
        if emergency:
            wanted.add(Consent.Purpose.EMERGENCY)
        if notify is not None:
            wanted.discard(Consent.Purpose.NOTIFY)
            if notify:
                wanted.add(Consent.Purpose.NOTIFY)
        if wanted != granted:
            accounts.set_consents(user, sorted(wanted), request=request)
            changed.extend(sorted(f"consent_{p}" for p in wanted ^ granted))

        prefs = DeliveryPreferences.objects.select_for_update().get(pk=_preferences(user).pk)
        muted = [t for t in prefs.muted_topics if t != PERSONAL]
        if PERSONAL not in topics:
            muted.append(PERSONAL)
        if prefs.quiet_start != quiet_start or prefs.quiet_end != quiet_end:
            prefs.quiet_start, prefs.quiet_end = quiet_start, quiet_end
            changed.append("quiet_hours")
        if list(prefs.muted_topics) != muted:
            prefs.muted_topics = muted
            changed.append("muted_topics")
        prefs.save()
        if changed:
            audit.record(
                "notices.preferences_changed",
                request=request,
                actor=user,
                target=prefs,
                subject=user,
                details={"fields": sorted(changed)},
            )
    return sorted(changed)


def _add_channel(user: User, channel: str, request: HttpRequest | None) -> None:
    profile = accounts.profile_of(user)
    if channel not in profile.channels:
        wanted = [c for c in CHANNELS if c in profile.channels or c == channel]
        accounts.update_profile(user, {"channels": wanted}, request=request)


def _remove_channel(user: User, channel: str, request: HttpRequest | None) -> None:
    profile = accounts.profile_of(user)
    if channel in profile.channels:
        wanted = [c for c in profile.channels if c != channel]
        accounts.update_profile(user, {"channels": wanted}, request=request)


def unsubscribe(token: str, request: HttpRequest | None = None) -> UnsubscribeRequest | None:
    """Turn off the topic a signed unsubscribe token names; ``None`` for a bad token.

    An interest topic is taken out of the profile's interests, ``personal`` is muted and
    ``emergency`` withdraws the emergency consent. Doing it twice changes nothing more.
    """
    wanted = read_unsubscribe_token(token)
    if wanted is None or wanted.topic not in TOPICS:
        return None
    user = User.objects.filter(pk=wanted.user_id, is_active=True).first()
    if user is None:
        return None
    with transaction.atomic():
        changed = False
        if wanted.topic == EMERGENCY:
            current = accounts.consents(user)
            if current[Consent.Purpose.EMERGENCY]:
                granted = [p for p, on in current.items() if on and p != EMERGENCY]
                accounts.set_consents(user, granted, request=request)
                changed = True
        elif wanted.topic == PERSONAL:
            prefs = DeliveryPreferences.objects.select_for_update().get(pk=_preferences(user).pk)
            if PERSONAL not in prefs.muted_topics:
                prefs.muted_topics = [*prefs.muted_topics, PERSONAL]
                prefs.save(update_fields=["muted_topics", "updated_at"])
                changed = True
        else:
            profile = accounts.profile_of(user)
            if wanted.topic in profile.interests:
                interests = [i for i in profile.interests if i != wanted.topic]
                accounts.update_profile(user, {"interests": interests}, request=request)
                changed = True
        audit.record(
            "notices.unsubscribed",
            request=request,
            actor=user,
            target=user,
            subject=user,
            details={"topic": wanted.topic, "channel": wanted.channel, "changed": changed},
        )
    return wanted


def is_subscribed(user_id: int, topic: str) -> bool:
    """Whether the topic is still on for the resident (for the unsubscribe page)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    if topic == EMERGENCY:
        return accounts.consents(user)[Consent.Purpose.EMERGENCY]
    if topic == PERSONAL:
        return not personal_muted(user)
    return topic in accounts.profile_of(user).interests


# --- LINE ---------------------------------------------------------------------------------


def link_line(
    user: User, line_user_id: str, display_name: str, request: HttpRequest | None = None
) -> LineLink:
    """Link a LINE account (from LINE Login) to the resident and choose LINE as a channel.

    One LINE account belongs to one resident: an id already linked to someone else is
    refused with :class:`PreferencesError`.
    """
    line_user_id = line_user_id.strip()
    if not line_user_id:
        raise PreferencesError({"line": [_("LINE did not tell us which account to link.")]})
    with transaction.atomic():
        taken = LineLink.objects.filter(line_user_id=line_user_id).exclude(user=user).exists()
        if taken:
            raise PreferencesError(
                {
                    "line": [
                        _(
                            "This LINE account is already linked to another account of the "
                            "city. Unlink it there first, or use another LINE account."
                        )
                    ]
                }
            )
        link, _created = LineLink.objects.update_or_create(
            user=user,
            defaults={
                "line_user_id": line_user_id,
                "display_name": display_name[:200],
                "linked_at": timezone.now(),
                "blocked_at": None,
            },
        )
        _add_channel(user, Channel.LINE, request)
        audit.record("notices.line_linked", request=request, actor=user, target=link, subject=user)
    return link


def unlink_line(user: User, request: HttpRequest | None = None) -> bool:
    """Forget the resident's LINE account; LINE is no longer a chosen channel."""
    with transaction.atomic():
        link = LineLink.objects.select_for_update().filter(user=user).first()
        if link is None:
            return False
        link_pk = link.pk
        link.delete()
        _remove_channel(user, Channel.LINE, request)
        audit.record(
            "notices.line_unlinked",
            request=request,
            actor=user,
            target_type="notices.linelink",
            target_id=link_pk,
            subject=user,
        )
    return True


# --- Web Push -----------------------------------------------------------------------------


def add_push_subscription(
    user: User,
    endpoint: str,
    p256dh: str,
    auth: str,
    user_agent: str = "",
    request: HttpRequest | None = None,
) -> PushSubscription:
    """Save a browser's subscription (one row per endpoint: a browser subscribing again, or
    another resident logging in on it, updates the row) and choose push as a channel."""
    with transaction.atomic():
        subscription, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "user": user,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": user_agent[:300],
                "failures": 0,
            },
        )
        _add_channel(user, Channel.PUSH, request)
        audit.record(
            "notices.push_subscribed",
            request=request,
            actor=user,
            target=subscription,
            subject=user,
            details={"created": created},
        )
    return subscription


def remove_push_subscription(user: User, endpoint: str, request: HttpRequest | None = None) -> bool:
    """Forget one of the resident's browsers; with none left, push is no longer chosen."""
    with transaction.atomic():
        subscription = PushSubscription.objects.filter(user=user, endpoint=endpoint).first()
        if subscription is None:
            return False
        pk = subscription.pk
        subscription.delete()
        if not PushSubscription.objects.filter(user=user).exists():
            _remove_channel(user, Channel.PUSH, request)
        audit.record(
            "notices.push_unsubscribed",
            request=request,
            actor=user,
            target_type="notices.pushsubscription",
            target_id=pk,
            subject=user,
        )
    return True


# --- inbox --------------------------------------------------------------------------------


def add_inbox_item(
    user_id: int,
    *,
    kind: str,
    source_key: str,
    title: str,
    body: str = "",
    url: str = "",
    urgent: bool = False,
    message: Message | None = None,
) -> bool:
    """Put an item in the resident's inbox once: a second call with the same ``source_key``
    (a repeated event, a resumed batch) adds nothing. Returns True when it was added.

    Not audited one by one: an inbox item is the record of a message the audit log already
    has (the message, the application change, the payment).
    """
    # No read first: the unique (user, source_key) decides, in one statement, even when two
    # workers add the same item at the same moment.
    try:
        with transaction.atomic():
            InboxItem.objects.create(
                user_id=user_id,
                kind=kind,
                source_key=source_key[:120],
                title=title[:300],
                body=body,
                url=url[:300],
                urgent=urgent,
                message=message,
            )
    except IntegrityError:
        return False  # made meanwhile by another worker
    return True


def inbox_items(user: Any) -> Any:
    """The resident's own items, urgent and newest first."""
    return InboxItem.objects.filter(user=user).order_by("-urgent", "-created_at", "-id")


def own_item(user: Any, pk: int) -> InboxItem | None:
    return InboxItem.objects.filter(user=user, pk=pk).first()


def mark_read(user: Any, item: InboxItem) -> bool:
    """Mark the resident's own item read; False when it was already read (or not theirs)."""
    if item.user_id != user.pk or item.read_at is not None:
        return False
    now = timezone.now()
    updated = InboxItem.objects.filter(pk=item.pk, user=user, read_at__isnull=True).update(
        read_at=now
    )
    item.read_at = now
    return bool(updated)


def unread_count(user: Any) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()
