"""FAQ search and entries API.

- ``GET /faq/search?q=&lang=&limit=10``: published FAQ entries matching a resident's
  question, best first, each in ``lang`` when translated (else Japanese).
- ``GET /faq/{key}?lang=``: one published entry.

Errors are problem details (:mod:`cityhall.core.problems`).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import get_language
from ninja import Query, Router, Schema
from pydantic import Field

from cityhall.inquiries.services import search as search_service
from cityhall.procedures.schemas import Problem

router = Router(tags=["faq"])

MAX_LIMIT = search_service.MAX_LIMIT


class SearchQuery(Schema):
    q: str = Field("", description="The question, in any language (at most 500 characters used).")
    lang: str | None = Field(
        None, description="Language of the answers, e.g. `en`, `pt-br`; default: the request's."
    )
    limit: int = Field(10, ge=1, le=MAX_LIMIT, description="How many results (1–50).")


class EntryQuery(Schema):
    lang: str | None = Field(None, description="Language code; default: the request's.")


class SearchResultOut(Schema):
    id: str = Field(description="The FAQ entry's key, e.g. `gomi-001`.")
    score: float = Field(description="Relevance; higher is better, comparable within one search.")
    question: str


class SearchOut(Schema):
    results: list[SearchResultOut]


class FaqEntryOut(Schema):
    id: str
    question: str
    answer: str
    language: str = Field(description="The language shown (the one asked for, else `ja`).")
    category: str
    url: str = Field(description="The city's source page, if any.")
    procedures: list[str] = Field(description="Slugs of related procedures.")


def _language(wanted: str | None) -> str:
    return (wanted or get_language() or "ja").lower()[:10]


@router.get(
    "/faq/search",
    response={200: SearchOut, 422: Problem, 429: Problem},
    summary="Search the FAQ",
    description=(
        "Published FAQ entries that answer a question, best first. The question may be "
        "colloquial Japanese, kana only, have typos, or be in another language; each result "
        "is shown in `lang` when translated, else in Japanese. An empty `q` gives no results. "
        "Scores are raw relevance, comparable within one search."
    ),
)
def faq_search(request: HttpRequest, filters: Query[SearchQuery]) -> Any:
    language = _language(filters.lang)
    hits = search_service.search(filters.q, language, filters.limit)
    return {
        "results": [
            {"id": hit.key, "score": round(hit.score, 4), "question": hit.question} for hit in hits
        ]
    }


@router.get(
    "/faq/{key}",
    response={200: FaqEntryOut, 404: Problem, 429: Problem},
    summary="One FAQ entry",
    description="A published FAQ entry in `lang` when translated, else in Japanese.",
)
def faq_entry(request: HttpRequest, key: str, filters: Query[EntryQuery]) -> Any:
    hit = search_service.entry(key, _language(filters.lang))
    if hit is None:
        raise Http404
    return {
        "id": hit.key,
        "question": hit.question,
        "answer": hit.answer,
        "language": hit.language,
        "category": hit.category,
        "url": hit.url,
        "procedures": hit.procedures,
    }
