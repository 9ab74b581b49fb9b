"""Residents' news pages: the list with its filters and language markers, one article in
the reader's language (or Japanese with a notice), file downloads, the alert banner, and
the feed on the home page and my page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cityhall.notices.models import Article, InboxItem, Message
from cityhall.notices.services import articles
from cityhall.people.models import Consent
from tests.conftest import make_resident
from tests.notices.articles_support import PDF_BYTES, english, make_article, png_bytes, upload

pytestmark = pytest.mark.django_db


def test_list_shows_published_items_with_their_markers(
    client: Any, geography: dict[str, Any]
) -> None:
    make_article(title="年末年始のごみ収集", translations={"en": "New Year garbage days"})
    make_article(title="上野の防災訓練", topic="disaster", districts=["ueno-tobu"])
    make_article(title="下書き", publish=False)
    page = english(client).get(reverse("notices:news")).content.decode()
    assert "New Year garbage days" in page and "上野の防災訓練" in page
    assert "下書き" not in page
    assert "In your language" in page and "Japanese only" in page
    assert "上野東部" in page or "ueno" in page.lower()
    assert "Whole city" in page
    # the feeds are announced
    for kind in ("application/rss+xml", "application/atom+xml", "application/feed+json"):
        assert re.search(rf'<link rel="alternate" type="{re.escape(kind)}"', page)


def test_list_filters_by_topic_and_district(client: Any, geography: dict[str, Any]) -> None:
    make_article(title="市全体のごみ")
    make_article(title="上野の防災", topic="disaster", districts=["ueno-tobu"])
    make_article(title="青山の防災", topic="disaster", districts=["aoyama-hokubu"])
    page = client.get(reverse("notices:news"), {"topic": "disaster"}).content.decode()
    assert "上野の防災" in page and "青山の防災" in page and "市全体のごみ" not in page
    page = client.get(reverse("notices:news"), {"district": "ueno-tobu"}).content.decode()
    assert "上野の防災" in page and "市全体のごみ" in page and "青山の防災" not in page
    response = client.get(reverse("notices:news"), {"topic": "nonsense"})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()


def test_list_is_paginated(client: Any) -> None:
    for n in range(23):
        make_article(title=f"お知らせ{n:02d}")
    first = english(client).get(reverse("notices:news")).content.decode()
    assert "Page 1 of 2" in first
    second = client.get(reverse("notices:news"), {"page": "2"}).content.decode()
    assert second.count('class="news-list__item"') == 3


def test_article_in_the_readers_language_with_lang_attribute(client: Any) -> None:
    article = make_article(title="ごみ収集日", translations={"pt-br": "Dias de coleta"})
    client.cookies["cityhall_lang"] = "pt-br"
    page = client.get(reverse("notices:article", args=[article.slug])).content.decode()
    assert re.search(r'<article class="news-article" lang="pt-BR">', page)
    assert "Dias de coleta" in page and "ごみ収集日</h1>" not in page


def test_article_falls_back_to_japanese_with_a_notice(client: Any) -> None:
    article = make_article(title="ごみ収集日", translations={"en": "Garbage"}, approve=False)
    page = english(client).get(reverse("notices:article", args=[article.slug])).content.decode()
    assert '<article class="news-article" lang="ja">' in page
    assert "not yet available in your language" in page
    assert "ごみ収集日" in page and ">Garbage<" not in page


def test_drafts_withdrawn_and_ended_articles_are_not_found(client: Any) -> None:
    draft = make_article(publish=False)
    withdrawn = make_article()
    articles.withdraw(withdrawn, None, None)
    ended = make_article()
    Article.objects.filter(pk=ended.pk).update(valid_until=timezone.now())
    for article in (draft, withdrawn, ended):
        assert client.get(reverse("notices:article", args=[article.slug])).status_code == 404


def test_attachments_are_listed_and_download_only_while_published(client: Any) -> None:
    article = make_article()
    pdf = articles.add_attachment(article, upload("flyer.pdf", PDF_BYTES), "チラシ", None)
    png = articles.add_attachment(article, upload("map.png", png_bytes()), "地図", None)
    page = english(client).get(reverse("notices:article", args=[article.slug])).content.decode()
    assert "チラシ" in page and "(PDF," in page and "(PNG," in page
    response = client.get(reverse("notices:attachment", args=[pdf.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert client.get(reverse("notices:attachment", args=[png.pk]))["Content-Type"] == "image/png"
    articles.withdraw(article, None, None)
    assert client.get(reverse("notices:attachment", args=[pdf.pk])).status_code == 404


def _alert(districts: list[str]) -> Article:
    message = Message.objects.create(
        kind=Message.Kind.EMERGENCY,
        topic="emergency",
        content={
            "ja": {"subject": "避難指示", "body": "避難してください。"},
            "en": {"subject": "Evacuation order", "body": "Leave now."},
        },
        filters={"districts": districts},
    )
    return articles.publish_alert_article(message, None)


def test_alert_banner_on_every_page_and_refreshed_on_publish(
    client: Any, geography: dict[str, Any]
) -> None:
    english(client)
    home = client.get(reverse("portal:home")).content.decode()
    assert "alert-banner" not in home
    client.get(reverse("notices:news"))  # the empty banner is now cached
    _alert(["ueno-tobu"])
    page = client.get(reverse("notices:news")).content.decode()
    assert 'aria-labelledby="alert-banner-title"' in page
    assert (
        "Evacuation order" in page and 'role="alert"' not in page.split("alert-banner", 1)[1][:400]
    )
    withdrawn = Article.objects.get(topic="emergency")
    articles.withdraw(withdrawn, None, None)
    assert "Evacuation order" not in client.get(reverse("notices:news")).content.decode()


def test_home_shows_public_news_to_visitors(client: Any) -> None:
    make_article(title="広報いが4月号")
    page = english(client).get(reverse("portal:home")).content.decode()
    assert "広報いが4月号" in page and reverse("notices:news") in page


def test_home_and_mypage_show_the_personal_feed(client: Any, geography: dict[str, Any]) -> None:
    user = make_resident(
        "family@example.jp",
        district=geography["ueno-tobu"],
        children_birth_years=[timezone.localdate().year - 3],
        interests=["childcare"],
    )
    Consent.objects.create(user=user, purpose="personalise", granted=True)
    make_article(title="子育て支援センター", topic="childcare", audience="families")
    make_article(title="青山の健診", topic="childcare", districts=["aoyama-hokubu"])
    InboxItem.objects.create(
        user=user,
        kind="payment",
        source_key="payment:1",
        title="納期限のお知らせ",
        url="/payments/",
    )
    client.force_login(user)
    english(client)
    home = client.get(reverse("portal:home")).content.decode()
    assert "News for you" in home and "子育て支援センター" in home and "青山の健診" not in home
    assert "納期限のお知らせ" in home
    mypage = client.get(reverse("portal:mypage")).content.decode()
    assert "子育て支援センター" in mypage and "納期限のお知らせ" in mypage
    assert reverse("notices:preferences") in mypage and "Notification settings" in mypage
    assert reverse("notices:inbox") in mypage


def test_feed_on_home_lists_urgent_first(client: Any, geography: dict[str, Any]) -> None:
    make_article(title="普通のお知らせ")
    Article.objects.update(published_at=timezone.now() + dt.timedelta(minutes=1))
    _alert([])
    page = client.get(reverse("portal:home")).content.decode()
    section = page.split('id="home-news"', 1)[1]
    assert section.index("避難指示") < section.index("普通のお知らせ")
