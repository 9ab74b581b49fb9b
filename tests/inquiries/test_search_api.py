"""The FAQ search service and API over the database: contract, ranking, index freshness."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cityhall.inquiries.models import FaqEntry, FaqText
from cityhall.inquiries.services import search

pytestmark = pytest.mark.django_db

ENTRIES = [
    (
        "gomi-002",
        "garbage",
        {
            "ja": ("粗大ごみを出したいのですが。", "粗大ごみは戸別収集の申込みが必要です。"),
            "en": ("How do I dispose of large items?", "Large items are collected on request."),
        },
    ),
    (
        "jumin-001",
        "residency",
        {
            "ja": ("住民票の写しを取りたい。", "住民票の写しは市民課の窓口やコンビニで取れます。"),
        },
    ),
    (
        "dis-001",
        "disaster",
        {
            "ja": ("避難所はどこですか。", "指定避難所は市内の小中学校です。"),
        },
    ),
]


@pytest.fixture
def faq() -> None:
    for key, category, texts in ENTRIES:
        entry = FaqEntry.objects.create(
            key=key, category=category, url=f"https://example.org/{key}", procedures=["juminhyo"]
        )
        for language, (question, answer) in texts.items():
            FaqText.objects.create(entry=entry, language=language, question=question, answer=answer)


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(f"/api/v1{path}", params)


def test_search_returns_ranked_results(client: Client, faq: None) -> None:
    response = get(client, "/faq/search", q="じゅうみんひょうがほしい", lang="ja")
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["id"] == "jumin-001"
    assert results[0]["question"] == "住民票の写しを取りたい。"
    assert set(results[0]) == {"id", "score", "question"}
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_search_answers_in_the_asked_language_else_japanese(client: Client, faq: None) -> None:
    results = get(client, "/faq/search", q="粗大ごみ", lang="en").json()["results"]
    assert results[0] == {
        "id": "gomi-002",
        "score": results[0]["score"],
        "question": "How do I dispose of large items?",
    }
    hits = search.search("住民票", "en")
    assert hits[0].key == "jumin-001" and hits[0].language == "ja"


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "🗑️"}])
def test_empty_query_gives_no_results(client: Client, faq: None, params: dict[str, str]) -> None:
    response = get(client, "/faq/search", **params)
    assert response.status_code == 200
    assert response.json() == {"results": []}


@pytest.mark.parametrize("limit", ["0", "51", "x"])
def test_bad_limit_is_a_problem(client: Client, faq: None, limit: str) -> None:
    response = get(client, "/faq/search", q="ごみ", limit=limit)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 422


def test_long_and_hostile_queries(client: Client, faq: None) -> None:
    for q in ["<script>alert(1)</script>", "ごみ" * 5000]:
        response = get(client, "/faq/search", q=q)
        assert response.status_code == 200
        assert isinstance(response.json()["results"], list)


def test_entry_endpoint(client: Client, faq: None) -> None:
    body = get(client, "/faq/gomi-002", lang="en").json()
    assert body["question"] == "How do I dispose of large items?"
    assert body["language"] == "en"
    assert body["category"] == "garbage"
    assert body["url"] == "https://example.org/gomi-002"
    assert body["procedures"] == ["juminhyo"]
    assert get(client, "/faq/dis-001", lang="vi").json()["language"] == "ja"
    missing = get(client, "/faq/nope-999")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/problem+json")


def test_index_follows_faq_edits(faq: None) -> None:
    assert search.search("ひなんじょ")[0].key == "dis-001"
    assert "mn-001" not in [h.key for h in search.search("マイナンバーカード")]
    entry = FaqEntry.objects.create(key="mn-001", category="mynumber")
    FaqText.objects.create(
        entry=entry,
        language="ja",
        question="マイナンバーカードを作りたい。",
        answer="申請できます。",
    )
    assert search.search("マイナンバーカード")[0].key == "mn-001"
    text = FaqText.objects.get(entry=entry)
    text.question = "個人番号カードの暗証番号を忘れた。"
    text.save()
    assert search.search("暗証番号")[0].key == "mn-001"
    entry.published = False
    entry.save()
    assert "mn-001" not in [h.key for h in search.search("暗証番号")]
    entry.delete()
    assert search.entry("mn-001") is None


def test_limit_is_clamped(faq: None) -> None:
    assert len(search.search("ごみ 住民票 避難所", limit=1)) == 1
    assert len(search.search("ごみ 住民票 避難所", limit=500)) <= 50
