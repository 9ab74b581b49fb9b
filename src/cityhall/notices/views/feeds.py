"""The news as feeds: RSS 2.0, Atom (``django.contrib.syndication``) and JSON Feed 1.1.

Each feed is in the language given by ``?lang=`` (one of the site's languages) or else
the request's: an article appears in its approved version in that language, else in
Japanese. The newest published articles first (urgent ones on top), as on /news/.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cityhall.core import i18n
from cityhall.notices.models import Article
from cityhall.notices.services import articles

FEED_SIZE = 30
JSON_FEED_TYPE = "application/feed+json"


def feed_language(request: HttpRequest) -> str:
    wanted = (request.GET.get("lang") or "").lower()
    if wanted in i18n.codes():
        return wanted
    return (get_language() or settings.LANGUAGE_CODE).lower()


def _municipality(language: str) -> str:
    return str(settings.MUNICIPALITY_NAMES.get(language, settings.MUNICIPALITY_NAME))


def feed_items(language: str) -> list[tuple[Article, Any]]:
    return [
        (article, articles.version_for(article, language))
        for article in articles.published()[:FEED_SIZE]
    ]


class RssFeed(Feed):
    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = feed_language(request)
        with translation.override(language):
            response = super().__call__(request, *args, **kwargs)
        response["Content-Language"] = i18n.html_lang(language)
        return response

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        return feed_language(request)

    def title(self, obj: str) -> str:
        return _("News from %(city)s") % {"city": _municipality(obj)}

    def link(self, obj: str) -> str:
        return reverse("notices:news")

    def description(self, obj: str) -> str:
        return _("News and notices from the city: for the whole city and for each district.")

    def feed_url(self, obj: str) -> str:
        return reverse("notices:feed_rss") + f"?lang={obj}"

    def items(self, obj: str) -> list[tuple[Article, Any]]:
        return feed_items(obj)

    def item_title(self, item: tuple[Article, Any]) -> str:
        return str(item[1].title)

    def item_description(self, item: tuple[Article, Any]) -> str:
        version = item[1]
        return str(version.body_html or version.summary)

    def item_link(self, item: tuple[Article, Any]) -> str:
        return reverse("notices:article", args=[item[0].slug])

    def item_guid(self, item: tuple[Article, Any]) -> str:
        return f"cityhall-article-{item[0].pk}"

    def item_guid_is_permalink(self, item: tuple[Article, Any]) -> bool:
        return False

    def item_pubdate(self, item: tuple[Article, Any]) -> Any:
        return item[0].published_at

    def item_updateddate(self, item: tuple[Article, Any]) -> Any:
        return max(item[0].updated_at, item[1].updated_at)

    def item_categories(self, item: tuple[Article, Any]) -> list[str]:
        return [str(item[0].get_topic_display())]


class AtomFeed(RssFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj: str) -> str:
        return self.description(obj)

    def feed_url(self, obj: str) -> str:
        return reverse("notices:feed_atom") + f"?lang={obj}"


@require_GET
def json_feed(request: HttpRequest) -> HttpResponse:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    language = feed_language(request)
    build = request.build_absolute_uri
    with translation.override(language):
        items = []
        for article, version in feed_items(language):
            url = build(reverse("notices:article", args=[article.slug]))
            item: dict[str, Any] = {
                "id": f"cityhall-article-{article.pk}",
                "url": url,
                "title": version.title,
                "content_html": version.body_html,
                "date_published": article.published_at.isoformat()
                if article.published_at
                else None,
                "date_modified": max(article.updated_at, version.updated_at).isoformat(),
                "tags": [str(article.get_topic_display())],
                "language": i18n.html_lang(version.language),
                "_cityhall": {
                    "topic": article.topic,
                    "urgent": article.urgent,
                    "districts": [d.code for d in article.districts.all()],
                },
            }
            if version.summary:
                item["summary"] = version.summary
            files = [
                {
                    "url": build(reverse("notices:attachment", args=[a.pk])),
                    "mime_type": a.content_type,
                    "title": a.title,
                    "size_in_bytes": a.size,
                }
                for a in article.attachments.all()
            ]
            if files:
                item["attachments"] = files
            items.append(item)
        body = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": _("News from %(city)s") % {"city": _municipality(language)},
            "home_page_url": build(reverse("notices:news")),
            "feed_url": build(reverse("notices:feed_json") + f"?lang={language}"),
            "description": _(
                "News and notices from the city: for the whole city and for each district."
            ),
            "language": i18n.html_lang(language),
            "items": items,
        }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type=f"{JSON_FEED_TYPE}; charset=utf-8"
    )
    response["Content-Language"] = i18n.html_lang(language)
    return response
