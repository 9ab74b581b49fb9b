"""The residents' FAQ pages (よくある質問): categories and search, and one entry.

``/faq/`` lists the categories with their counts and searches (GET ``q``) through
:func:`cityhall.inquiries.services.search.search` in the reader's language; ``category``
lists one category's questions. ``/faq/<key>/`` shows the entry in the reader's language,
else in Japanese with a note, and takes the "was this helpful?" answer as a plain form POST
(PRG: redirect back with ``?thanks=1``), so it works without JavaScript. The entry page
carries a CSRF token, so it says ``Cache-Control: private`` and no shared page cache keeps it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.core import i18n
from cityhall.inquiries.forms_faq import FeedbackForm, SearchForm
from cityhall.inquiries.models import FaqCategory, FaqEntry
from cityhall.inquiries.services import faq as service
from cityhall.inquiries.services import search
from cityhall.procedures.services import catalogue

SNIPPET_LENGTH = 120
RESULTS = 20


def _language() -> str:
    return get_language() or service.ORIGINAL


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_LENGTH else flat[: SNIPPET_LENGTH - 1] + "…"


@require_GET
def faq_list(request: HttpRequest) -> HttpResponse:
    language = _language()
    form = SearchForm(request.GET or None)
    query = ""
    category = ""
    if form.is_bound and form.is_valid():
        query = (form.cleaned_data.get("q") or "").strip()
        category = form.cleaned_data.get("category") or ""
    counts = dict(
        FaqEntry.objects.filter(published=True)
        .values_list("category")
        .annotate(n=Count("id"))
        .values_list("category", "n")
    )
    categories = [
        {"value": value, "label": label, "count": counts[value]}
        for value, label in FaqCategory.choices
        if counts.get(value)
    ]
    results: list[dict[str, Any]] = []
    if query:
        for hit in search.search(query, language, limit=RESULTS):
            results.append(
                {
                    "key": hit.key,
                    "question": hit.question,
                    "snippet": _snippet(hit.answer),
                    "lang": i18n.html_lang(hit.language),
                }
            )
    entries: list[dict[str, Any]] = []
    if category and not query:
        for entry in FaqEntry.objects.filter(published=True, category=category).prefetch_related(
            "texts"
        ):
            text = service.text_for(entry, language)
            if text is not None:
                entries.append(
                    {
                        "key": entry.key,
                        "question": text.question,
                        "lang": i18n.html_lang(text.language),
                    }
                )
    return render(
        request,
        "inquiries/faq/list.html",
        {
            "form": form,
            "query": query,
            "category": category,
            "category_label": dict(FaqCategory.choices).get(category, ""),
            "categories": categories,
            "results": results,
            "entries": entries,
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@cache_control(private=True)
@require_http_methods(["GET", "HEAD", "POST"])
def faq_detail(request: HttpRequest, key: str) -> HttpResponse:
    entry = (
        FaqEntry.objects.select_related("department")
        .prefetch_related("texts")
        .filter(key=key, published=True)
        .first()
    )
    if entry is None:
        raise Http404("no such FAQ entry")
    language = _language()
    text = service.text_for(entry, language)
    if text is None:
        raise Http404("FAQ entry without text")
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service.record_feedback(entry.key, form.cleaned_data["helpful"] == "yes")
        url = reverse("inquiries:faq_entry", args=[entry.key])
        return redirect(f"{url}?{urlencode({'thanks': '1'})}#feedback")
    procedures = catalogue.by_slugs(list(entry.procedures or []))
    related = [
        {"slug": slug, "title": procedures[slug].text("title", language)}
        for slug in entry.procedures or []
        if slug in procedures
    ]
    in_language = text.language == language
    return render(
        request,
        "inquiries/faq/detail.html",
        {
            "entry": entry,
            "text": text,
            "text_lang": i18n.html_lang(text.language),
            "in_language": in_language,
            "related": related,
            "form": form,
            "thanks": request.GET.get("thanks") == "1",
            "contact_url": reverse("inquiries:contact") + "?" + urlencode({"faq": entry.key}),
        },
        status=422 if form.errors else 200,
    )
