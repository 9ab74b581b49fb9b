"""The feed on the home page and my page: news that concerns this resident, and their inbox.

:func:`personal_feed` uses the profile only when the resident allowed it (consent
``personalise``): then it shows published articles for the whole city or the resident's
district, for an audience they belong to (families with children under 18; older people
when 65 or over or caring for someone; foreign residents when foreign or reading another
language than Japanese; businesses when interested in work), on a topic of their
interests — and every urgent or emergency article whatever the topic. Without the
consent: city-wide articles only. Their own inbox items are always part of it. Urgent
entries come first, then the newest.

:func:`public_feed` is for visitors who are not logged in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cityhall.core import i18n
from cityhall.notices.models import EMERGENCY, Article, Audience, InboxItem
from cityhall.notices.services import articles
from cityhall.people.models import Interest, ResidentProfile
from cityhall.people.services import accounts

ADULT_AGE = 18
ELDERLY_AGE = 65
JAPANESE = {"ja", "ja-easy"}


@dataclass(frozen=True)
class FeedEntry:
    kind: str  # "article", "alert" (urgent emergency article) or an InboxItem kind
    title: str
    summary: str
    url: str
    published_at: dt.datetime
    urgent: bool
    topic: str
    language: str = "ja"  # the language of title and summary
    translated: bool = True  # False: shown in Japanese because no approved version exists
    districts: list[str] = field(default_factory=list)  # district names; empty: whole city
    unread: bool = False

    @property
    def lang(self) -> str:
        """The BCP 47 tag of ``language`` for ``lang=""`` (empty when unknown)."""
        return i18n.html_lang(self.language) if self.language else ""


def audiences_for(profile: ResidentProfile, today: dt.date | None = None) -> set[str]:
    """The article audiences a resident belongs to, from their profile."""
    year = (today or timezone.localdate()).year
    found = {Audience.EVERYONE.value}
    if any(year - int(y) < ADULT_AGE for y in (profile.children_birth_years or [])):
        found.add(Audience.FAMILIES.value)
    if (profile.birth_year and year - profile.birth_year >= ELDERLY_AGE) or (
        profile.care_in_household
    ):
        found.add(Audience.ELDERLY.value)
    if profile.nationality_foreign or (profile.preferred_language or "ja") not in JAPANESE:
        found.add(Audience.FOREIGN.value)
    if Interest.JOBS.value in (profile.interests or []):
        found.add(Audience.BUSINESS.value)
    return found


def relevant_articles(profile: ResidentProfile | None) -> QuerySet[Article]:
    """Published articles for this profile (``None``: city-wide only)."""
    qs = articles.published()
    if profile is None:
        return articles.for_districts(qs, None)
    qs = articles.for_districts(qs, profile.district.code if profile.district else None)
    qs = qs.filter(audience__in=sorted(audiences_for(profile)))
    return qs.filter(
        Q(topic__in=list(profile.interests or [])) | Q(urgent=True) | Q(topic=EMERGENCY)
    )


def _district_names(article: Article, language: str) -> list[str]:
    return [d.localized_name(language) for d in article.districts.all()]


def article_entry(article: Article, language: str) -> FeedEntry:
    version = articles.version_for(article, language)
    return FeedEntry(
        kind="alert" if article.urgent and article.topic == EMERGENCY else "article",
        title=version.title,
        summary=version.summary,
        url=reverse("notices:article", args=[article.slug]),
        published_at=article.published_at or article.valid_from,
        urgent=article.urgent,
        topic=article.topic,
        language=version.language,
        translated=version.language == language or language == articles.ORIGINAL,
        districts=_district_names(article, language),
    )


def _inbox_entry(item: InboxItem, topic: str) -> FeedEntry:
    return FeedEntry(
        kind=item.kind,
        title=item.title,
        summary=item.body[:200],
        url=item.url or reverse("notices:inbox_item", args=[item.pk]),
        published_at=item.created_at,
        urgent=item.urgent,
        topic=topic,
        language="",
        unread=item.read_at is None,
    )


def _order(entries: list[FeedEntry], limit: int) -> list[FeedEntry]:
    entries.sort(key=lambda e: (e.urgent, e.published_at), reverse=True)
    return entries[:limit]


def personal_feed(user: Any, language: str, limit: int = 20) -> list[FeedEntry]:
    """What concerns this resident: relevant published articles and their inbox items."""
    profile = None
    if accounts.consents(user).get("personalise"):
        profile = ResidentProfile.objects.select_related("district").filter(user=user).first()
        if profile is None:
            profile = accounts.profile_of(user)
    selected = list(relevant_articles(profile)[:limit])
    entries = [article_entry(a, language) for a in selected]
    shown = {a.pk for a in selected}
    items = (
        InboxItem.objects.filter(user=user)
        .select_related("message")
        .order_by("-created_at", "-id")[:limit]
    )
    for item in items:
        message = item.message
        if message is not None and message.article_id in shown:
            continue  # the alert's article is already in the feed
        topic = message.topic if message is not None else ""
        entries.append(_inbox_entry(item, topic))
    return _order(entries, limit)


def public_feed(
    language: str, district_code: str | None = None, limit: int = 20
) -> list[FeedEntry]:
    """For visitors: city-wide articles, plus a district's when given."""
    qs = articles.for_districts(articles.published(), district_code)
    return [article_entry(a, language) for a in qs[:limit]]
