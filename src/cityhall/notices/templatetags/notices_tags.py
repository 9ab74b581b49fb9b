"""Template tags of the notices: the emergency alert banner shown on every page.

``{% alert_banner %}`` lists the emergency alerts shown now (urgent articles on the
``emergency`` topic), each in the reader's language when an approved version exists.
It is a region with a heading, not an assertive live region: a screen reader meets it
where it is on every page without being interrupted on each page load. The list is
cached briefly per language; publishing, withdrawing or editing an article starts a new
cache generation (:func:`cityhall.notices.services.articles.invalidate_alerts`).
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.core.cache import cache
from django.db import DatabaseError
from django.urls import reverse
from django.utils.translation import get_language

from cityhall.core import i18n
from cityhall.notices.services import articles

register = template.Library()
logger = logging.getLogger("cityhall.notices")

CACHE_SECONDS = 30


def banner_alerts(language: str) -> list[dict[str, Any]]:
    key = articles.alerts_cache_key("banner", language)
    found = cache.get(key)
    if found is not None:
        return list(found)
    alerts = []
    for article in articles.active_alerts():
        version = articles.version_for(article, language)
        alerts.append(
            {
                "url": reverse("notices:article", args=[article.slug]),
                "title": version.title,
                "summary": version.summary,
                "lang": i18n.html_lang(version.language),
                "published_at": article.published_at,
                "districts": [d.localized_name(language) for d in article.districts.all()],
            }
        )
    cache.set(key, alerts, CACHE_SECONDS)
    return alerts


@register.inclusion_tag("notices/includes/alert_banner.html", takes_context=True)
def alert_banner(context: Any) -> dict[str, Any]:
    language = (get_language() or "ja").lower()
    try:
        alerts = banner_alerts(language)
    except DatabaseError:  # an error page must still render when the database fails
        logger.exception("alert banner unavailable")
        alerts = []
    return {"alerts": alerts, "HTML_LANG": context.get("HTML_LANG", "ja")}
