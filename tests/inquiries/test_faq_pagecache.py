"""The public FAQ list is kept by the page cache for visitors, and an FAQ change shows at
once (the search index's invalidation also bumps the page cache's generation)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.inquiries.services import faq

pytestmark = pytest.mark.django_db(transaction=True)


def test_faq_list_is_cached_and_an_edit_shows_at_once(settings: Any) -> None:
    settings.PAGE_CACHE_SECONDS = 60
    entry = faq.create_entry(
        key="gomi-900", question="粗大ごみの出し方", answer="予約してください。"
    )
    visitor = Client()
    url = reverse("inquiries:faq") + "?q=粗大ごみ"
    first = visitor.get(url)
    assert first.status_code == 200 and "粗大ごみの出し方" in first.content.decode()
    assert visitor.get(url).content == first.content  # served from the cache
    faq.save_text(entry, "ja", "粗大ごみを出すには", "予約してください。")
    fresh = visitor.get(url).content.decode()
    assert "粗大ごみを出すには" in fresh and "粗大ごみの出し方" not in fresh


def test_an_entry_page_is_private(settings: Any) -> None:
    settings.PAGE_CACHE_SECONDS = 60
    faq.create_entry(key="gomi-901", question="資源ごみの日", answer="第2水曜日です。")
    response = Client().get(reverse("inquiries:faq_entry", args=["gomi-901"]))
    assert response.status_code == 200
    assert "private" in response.headers.get("Cache-Control", "")
