"""RSS 2.0, Atom and JSON Feed 1.1 of the news, parsed as a reader would, in the language
asked for by ``?lang=`` or the request."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.urls import reverse

from cityhall.notices.services import articles
from tests.notices.articles_support import PDF_BYTES, make_article, upload

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def news(db: Any) -> dict[str, Any]:
    translated = make_article(
        title="年末年始のごみ収集", translations={"en": "New Year garbage days"}
    )
    japanese = make_article(title="上野の防災訓練", topic="disaster")
    draft = make_article(title="下書き", publish=False)
    articles.add_attachment(translated, upload("flyer.pdf", PDF_BYTES), "チラシ", None)
    return {"translated": translated, "japanese": japanese, "draft": draft}


def test_rss_parses_and_uses_the_asked_language(client: Any, news: dict[str, Any]) -> None:
    response = client.get(reverse("notices:feed_rss"), {"lang": "en"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("language") == "en"
    assert "News from" in (channel.findtext("title") or "")
    titles = [item.findtext("title") for item in channel.findall("item")]
    assert set(titles) == {"New Year garbage days", "上野の防災訓練"}
    first = channel.findall("item")[0]
    assert (first.findtext("link") or "").startswith("http://testserver/news/")
    assert first.findtext("pubDate")
    assert first.findtext("guid", "").startswith("cityhall-article-")


def test_atom_parses_and_follows_the_request_language(client: Any, news: dict[str, Any]) -> None:
    client.cookies["cityhall_lang"] = "ja"
    response = client.get(reverse("notices:feed_atom"))
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    titles = {e.findtext(f"{ATOM}title") for e in entries}
    assert titles == {"年末年始のごみ収集", "上野の防災訓練"}
    for entry in entries:
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        link = entry.find(f"{ATOM}link")
        assert link is not None and "/news/" in (link.get("href") or "")


def test_json_feed_has_the_1_1_fields(client: Any, news: dict[str, Any]) -> None:
    response = client.get(reverse("notices:feed_json"), {"lang": "en"})
    assert response["Content-Type"].startswith("application/feed+json")
    body = json.loads(response.content)
    assert body["version"] == "https://jsonfeed.org/version/1.1"
    assert body["title"] and body["home_page_url"].endswith("/news/")
    assert body["feed_url"].endswith("/news/feed.json?lang=en")
    assert body["language"] == "en"
    items = {item["title"]: item for item in body["items"]}
    assert set(items) == {"New Year garbage days", "上野の防災訓練"}
    english = items["New Year garbage days"]
    assert english["id"] and english["url"].startswith("http://testserver/news/")
    assert english["content_html"].startswith("<p>")
    assert english["language"] == "en"
    assert english["date_published"]
    [attachment] = english["attachments"]
    assert attachment["mime_type"] == "application/pdf"
    assert attachment["size_in_bytes"] == len(PDF_BYTES)
    assert items["上野の防災訓練"]["language"] == "ja"


def test_unknown_lang_falls_back_to_the_request(client: Any, news: dict[str, Any]) -> None:
    client.cookies["cityhall_lang"] = "en"
    body = json.loads(client.get(reverse("notices:feed_json"), {"lang": "xx"}).content)
    assert body["language"] == "en"
