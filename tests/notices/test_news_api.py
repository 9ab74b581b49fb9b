"""The news JSON API: ``GET /api/v1/news`` for anyone and ``GET /api/v1/me/feed`` for the
logged-in resident; bad input answers problem details."""

from __future__ import annotations

from typing import Any

import pytest

from cityhall.notices.models import InboxItem
from cityhall.people.models import Consent
from tests.conftest import login_staff, make_resident, make_staff
from tests.notices.articles_support import make_article

pytestmark = pytest.mark.django_db


def test_news_lists_published_items_in_the_asked_language(
    client: Any, geography: dict[str, Any]
) -> None:
    make_article(title="ごみ", translations={"en": "Garbage"})
    make_article(title="上野の防災", topic="disaster", districts=["ueno-tobu"], urgent=True)
    make_article(title="下書き", publish=False)
    response = client.get("/api/v1/news", {"lang": "en"})
    assert response.status_code == 200
    items = response.json()
    assert [i["title"] for i in items] == ["上野の防災", "Garbage"]
    urgent, garbage = items
    assert urgent["urgent"] and urgent["districts"] == ["ueno-tobu"]
    assert urgent["language"] == "ja" and not urgent["translated"]
    assert garbage["language"] == "en" and garbage["translated"]
    assert garbage["topic"] == "garbage" and garbage["topic_label"]
    assert garbage["url"].startswith("http://testserver/news/")
    assert garbage["body_html"].startswith("<p>")

    by_topic = client.get("/api/v1/news", {"topic": "garbage"}).json()
    assert [i["title"] for i in by_topic] == ["ごみ"]
    by_district = client.get("/api/v1/news", {"district": "aoyama-hokubu"}).json()
    assert [i["title"] for i in by_district] == ["ごみ"]
    assert len(client.get("/api/v1/news", {"limit": 1}).json()) == 1


@pytest.mark.parametrize(
    "query",
    [{"lang": "klingon"}, {"topic": "nonsense"}, {"district": "atlantis"}, {"limit": 0}],
)
def test_news_refuses_bad_input_with_problem_details(client: Any, query: dict[str, Any]) -> None:
    response = client.get("/api/v1/news", query)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    assert body["errors"][0]["field"] in {"lang", "topic", "district", "limit"}


def test_my_feed_needs_a_resident(client: Any) -> None:
    response = client.get("/api/v1/me/feed")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    login_staff(client, make_staff("koho@city.iga.example", "clerk", "koho-kocho"))
    assert client.get("/api/v1/me/feed").status_code == 403


def test_my_feed_returns_the_residents_entries(client: Any, geography: dict[str, Any]) -> None:
    user = make_resident("me@example.jp", district=geography["ueno-tobu"], interests=["events"])
    Consent.objects.create(user=user, purpose="personalise", granted=True)
    make_article(title="上野のイベント", topic="events", districts=["ueno-tobu"])
    make_article(title="青山のイベント", topic="events", districts=["aoyama-hokubu"])
    InboxItem.objects.create(user=user, kind="payment", source_key="p:1", title="納期限")
    client.force_login(user)
    response = client.get("/api/v1/me/feed", {"lang": "ja"})
    assert response.status_code == 200
    entries = response.json()
    assert {e["title"] for e in entries} == {"上野のイベント", "納期限"}
    article = next(e for e in entries if e["kind"] == "article")
    assert article["url"].startswith("http://testserver/news/")
    assert article["districts"] == ["上野東部"]
    inbox = next(e for e in entries if e["kind"] == "payment")
    assert inbox["unread"] is True
