"""News (お知らせ) for everyone: the list, one article, and its files.

Thin views over :mod:`cityhall.notices.services.articles`. The list filters by topic and
district (a GET form, so a filtered list can be bookmarked) and marks each item "in your
language" or "Japanese only". An article shows its approved version in the reader's
language, else the Japanese original with a notice saying so, and its body carries the
``lang`` of the version shown. Files download only while their article is published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cityhall.core import i18n
from cityhall.core.forms import AccessibleFormMixin
from cityhall.core.models import District
from cityhall.notices.models import TOPIC_CHOICES, Article, ArticleAttachment
from cityhall.notices.services import articles

PER_PAGE = 20


def language() -> str:
    return (get_language() or "ja").lower()


class NewsFilterForm(AccessibleFormMixin, forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", _("All topics")), *TOPIC_CHOICES]  # type: ignore[attr-defined]
        self.fields["district"].choices = [("", _("All districts"))] + [  # type: ignore[attr-defined]
            (d.code, d.localized_name()) for d in District.objects.select_related("area")
        ]


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def item_context(article: Article, lang: str) -> dict[str, Any]:
    version = articles.version_for(article, lang)
    return {
        "article": article,
        "version": version,
        "version_lang": i18n.html_lang(version.language),
        "in_language": version.language == lang or lang == articles.ORIGINAL,
        "districts": [d.localized_name(lang) for d in article.districts.all()],
    }


def feed_links(lang: str) -> list[dict[str, str]]:
    from django.urls import reverse

    query = f"?lang={lang}"
    return [
        {
            "type": "application/rss+xml",
            "title": "RSS",
            "href": reverse("notices:feed_rss") + query,
        },
        {
            "type": "application/atom+xml",
            "title": "Atom",
            "href": reverse("notices:feed_atom") + query,
        },
        {
            "type": "application/feed+json",
            "title": "JSON Feed",
            "href": reverse("notices:feed_json") + query,
        },
    ]


@require_GET
def news_list(request: HttpRequest) -> HttpResponse:
    lang = language()
    form = NewsFilterForm(request.GET or None)
    qs = articles.published()
    status = 200
    if form.is_bound and not form.is_valid():
        status = 422
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if data.get("topic"):
        qs = qs.filter(topic=data["topic"])
    if data.get("district"):
        qs = articles.for_districts(qs, data["district"])
    page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    return render(
        request,
        "notices/news_list.html",
        {
            "form": form,
            "page": page,
            "items": [item_context(a, lang) for a in page.object_list],
            "feeds": feed_links(lang),
            "filtered": bool(data.get("topic") or data.get("district")),
        },
        status=status,
    )


@require_GET
def news_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lang = language()
    try:
        article = articles.get_published(slug)
    except Article.DoesNotExist as exc:
        raise Http404("no such published article") from exc
    context = item_context(article, lang)
    context["attachments"] = [
        {"file": f, "type": articles.TYPE_NAMES.get(f.content_type, f.content_type)}
        for f in article.attachments.all()
    ]
    context["feeds"] = feed_links(lang)
    return render(request, "notices/news_detail.html", context)


@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    try:
        item = articles.published_attachment(pk)
    except ArticleAttachment.DoesNotExist as exc:
        raise Http404("no such file of a published article") from exc
    try:
        handle = item.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("file missing") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{item.article.slug}-{item.pk}{Path(item.file.name or '').suffix}",
        content_type=item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
