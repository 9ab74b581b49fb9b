"""The procedure catalogue (手続き一覧): search, categories, life events, one procedure.

Read-only: nothing here changes state. The catalogue is small (a few hundred
procedures at most), so the text search runs in Python over the active procedures
after the cheap filters ran in the database. Both the query and the procedure's
``search_text`` are normalised the same way — Unicode NFKC (full-width Latin and
half-width katakana become ordinary characters), case folding, and katakana folded
to hiragana — so ごみ finds ゴミ, ｼﾞｭｳﾐﾝﾋｮｳ finds じゅうみんひょう and ＰＡＳＳＰＯＲＴ finds
"passport". The query is split on spaces (ASCII or ideographic); every term must match.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.functional import Promise
from django.utils.translation import get_language

from cityhall.procedures.models import Category, FormVersion, Procedure

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10

# ァ (U+30A1) … ヶ (U+30F6) and the iteration marks ヽヾ map onto their hiragana, 0x60 lower.
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)} | {
    0x30FD: 0x309D,
    0x30FE: 0x309E,
}


def normalise(text: str) -> str:
    """NFKC, case-folded, katakana as hiragana: the form both query and text are compared in."""
    return unicodedata.normalize("NFKC", text or "").casefold().translate(_KATAKANA_TO_HIRAGANA)


def terms(query: str) -> list[str]:
    """The query's search terms, normalised; at most :data:`MAX_TERMS`, duplicates dropped."""
    found: list[str] = []
    for term in normalise(query[:MAX_QUERY_LENGTH]).split():
        if term not in found:
            found.append(term)
    return found[:MAX_TERMS]


def active() -> QuerySet[Procedure]:
    """Active procedures with their department, each knowing whether it has a published form."""
    return (
        Procedure.objects.filter(is_active=True)
        .select_related("department")
        .annotate(
            has_published_form=Exists(
                FormVersion.objects.filter(definition__procedure=OuterRef("pk"))
            )
        )
    )


def can_apply_online(procedure: Procedure) -> bool:
    """Offered online (channel online or both) and a form version has been published."""
    if not procedure.online:
        return False
    flag = getattr(procedure, "has_published_form", None)
    if flag is None:
        flag = FormVersion.objects.filter(definition__procedure=procedure).exists()
    return bool(flag)


def at_counter(procedure: Procedure) -> bool:
    """Done at the counter: offered there, or offered online without a form to fill in yet."""
    return procedure.channel != "online" or not can_apply_online(procedure)


def search(
    query: str = "",
    category: str = "",
    life_event: str = "",
    online_only: bool = False,
    language: str | None = None,
) -> list[Procedure]:
    """Active procedures matching every term of ``query`` and the filters.

    Without a query the catalogue order (``order``, then the Japanese title) is kept.
    With one, procedures whose title in ``language`` contains the terms come first.
    """
    procedures = active()
    if category:
        procedures = procedures.filter(category=category)
    found = list(procedures)
    if life_event:
        # JSON "contains" is not available on SQLite; the list is short, so filter here.
        found = [p for p in found if life_event in (p.life_events or [])]
    if online_only:
        found = [p for p in found if can_apply_online(p)]
    wanted = terms(query)
    if not wanted:
        return found
    language = language or get_language() or "ja"
    scored: list[tuple[int, int, Procedure]] = []
    for position, procedure in enumerate(found):
        haystack = normalise(procedure.search_text)
        if all(term in haystack for term in wanted):
            title = normalise(procedure.text("title", language) + " " + procedure.title_ja)
            in_title = sum(term in title for term in wanted)
            scored.append((-in_title, position, procedure))
    scored.sort(key=lambda item: item[:2])
    return [procedure for _, _, procedure in scored]


def get(slug: str) -> Procedure | None:
    """The active procedure with this slug, or ``None``."""
    return active().filter(slug=slug).first()


def by_slugs(slugs: list[str]) -> dict[str, Procedure]:
    """Active procedures by slug; slugs without an active procedure are left out."""
    return {p.slug: p for p in active().filter(slug__in=slugs)}


@dataclass(frozen=True)
class CategoryCount:
    value: str
    label: str | Promise
    count: int


def categories_with_counts() -> list[CategoryCount]:
    """Categories that have active procedures, in the catalogue's category order."""
    counts = dict(
        Procedure.objects.filter(is_active=True)
        .values_list("category")
        .annotate(n=Count("id"))
        .values_list("category", "n")
    )
    return [
        CategoryCount(value, label, counts[value])
        for value, label in Category.choices
        if counts.get(value)
    ]


def by_life_event(slug: str) -> list[Procedure]:
    """Active procedures tagged with this life event, in catalogue order."""
    return [p for p in active() if slug in (p.life_events or [])]
