"""JSON API of the news: published articles for anyone, and a resident's own feed.

- ``GET /news?lang=&topic=&district=&limit=``: what /news/ shows, urgent first then
  newest, each in the asked language when an approved translation exists, else Japanese;
  ``district`` narrows to city-wide articles and that district's.
- ``GET /me/feed?lang=``: the logged-in resident's feed (as on my page): relevant articles
  when they allowed the use of their profile, and their inbox items. Session
  authentication like the other ``/me/`` endpoints.

Errors are problem details (:mod:`cityhall.core.problems`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language
from ninja import Query, Router, Schema
from pydantic import Field

from cityhall.core import i18n
from cityhall.core.models import District
from cityhall.core.problems import problem_response
from cityhall.notices.models import TOPICS, Article
from cityhall.notices.schemas import FeedEntryOut, NewsAttachmentOut, NewsItemOut
from cityhall.notices.services import articles, feed
from cityhall.people.api import ResidentAuth
from cityhall.procedures.schemas import Problem

router = Router(tags=["news"])

RESIDENT_AUTH = ResidentAuth()
ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 422: Problem, 429: Problem}
MAX_LIMIT = 100


class NewsQuery(Schema):
    lang: str | None = Field(None, description="Language code; default: the request's.")
    topic: str | None = Field(None, description="Topic code, e.g. `garbage`, `emergency`.")
    district: str | None = Field(None, description="District code, e.g. `ueno-tobu`.")
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


class FeedQuery(Schema):
    lang: str | None = Field(None, description="Language code; default: the request's.")
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


def _language(wanted: str | None) -> str | None:
    """The language asked for, the request's when none; ``None`` when unknown."""
    if wanted:
        wanted = wanted.lower()
        return wanted if wanted in i18n.codes() else None
    return (get_language() or "ja").lower()


def _invalid(request: HttpRequest, field: str, detail: str) -> Any:
    return problem_response(
        "validation-error", request, errors=[{"field": field, "detail": detail}]
    )


def news_item(request: HttpRequest, article: Article, language: str) -> NewsItemOut:
    version = articles.version_for(article, language)
    return NewsItemOut(
        slug=article.slug,
        url=request.build_absolute_uri(reverse("notices:article", args=[article.slug])),
        title=version.title,
        summary=version.summary,
        body_html=version.body_html,
        language=version.language,
        translated=version.language == language or language == articles.ORIGINAL,
        topic=article.topic,
        topic_label=str(article.get_topic_display()),
        audience=article.audience,
        urgent=article.urgent,
        districts=[d.code for d in article.districts.all()],
        published_at=article.published_at,
        valid_until=article.valid_until,
        attachments=[
            NewsAttachmentOut(
                title=a.title,
                content_type=a.content_type,
                size=a.size,
                url=request.build_absolute_uri(reverse("notices:attachment", args=[a.pk])),
            )
            for a in article.attachments.all()
        ],
    )


@router.get(
    "/news",
    response={200: list[NewsItemOut], **ERRORS},
    auth=None,
    summary="Published news",
)
def news(request: HttpRequest, query: Query[NewsQuery]) -> Any:
    """Published articles shown now, urgent first then newest."""
    language = _language(query.lang)
    if language is None:
        return _invalid(request, "lang", "unknown language")
    qs = articles.published()
    if query.topic:
        if query.topic not in TOPICS:
            return _invalid(request, "topic", "unknown topic")
        qs = qs.filter(topic=query.topic)
    if query.district:
        if not District.objects.filter(code=query.district).exists():
            return _invalid(request, "district", "unknown district")
        qs = articles.for_districts(qs, query.district)
    return [news_item(request, a, language) for a in qs[: query.limit]]


@router.get(
    "/me/feed",
    response={200: list[FeedEntryOut], **ERRORS},
    auth=RESIDENT_AUTH,
    summary="My news feed",
)
def my_feed(request: HttpRequest, query: Query[FeedQuery]) -> Any:
    """News that concerns the resident and their inbox items, urgent first then newest."""
    language = _language(query.lang)
    if language is None:
        return _invalid(request, "lang", "unknown language")
    user = request.auth  # type: ignore[attr-defined]
    return [
        FeedEntryOut(
            kind=e.kind,
            title=e.title,
            summary=e.summary,
            url=request.build_absolute_uri(e.url) if e.url.startswith("/") else e.url,
            published_at=e.published_at,
            urgent=e.urgent,
            topic=e.topic,
            language=e.language,
            translated=e.translated,
            districts=e.districts,
            unread=e.unread,
        )
        for e in feed.personal_feed(user, language, limit=query.limit)
    ]
