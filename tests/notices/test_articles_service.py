"""Articles service: sanitising, versions and their approval, publishing rules, the
validity window, files checked by content, alert articles and the demo news."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.notices.models import Article, ArticleVersion, Message
from cityhall.notices.services import articles
from tests.conftest import make_staff
from tests.notices.articles_support import (
    EXE_BYTES,
    PDF_BYTES,
    jpeg_bytes,
    make_article,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


# --- sanitiser -------------------------------------------------------------------------------


def test_sanitiser_removes_scripts_handlers_and_javascript_urls() -> None:
    dirty = (
        '<p onclick="steal()">Hello<script>alert(1)</script></p>'
        '<img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)">bad</a>'
        '<a href="https://www.city.iga.lg.jp/" target="_blank">good</a>'
        '<a href="mailto:koho@city.iga.example">mail</a><a href="tel:0595222500">tel</a>'
        "<style>body{display:none}</style><iframe src='https://evil.example'></iframe>"
        "<h2>Heading</h2><ul><li>one</li></ul><table><tr><th scope='col'>a</th></tr></table>"
    )
    clean = articles.sanitize_html(dirty)
    assert "<script" not in clean and "alert(1)" not in clean
    assert "onclick" not in clean and "onerror" not in clean
    assert "<img" not in clean and "<iframe" not in clean and "<style" not in clean
    assert "javascript:" not in clean
    assert '<a href="https://www.city.iga.lg.jp/" rel="noopener">good</a>' in clean
    assert 'href="mailto:koho@city.iga.example"' in clean
    assert 'href="tel:0595222500"' in clean
    assert "target=" not in clean
    assert "<h2>Heading</h2>" in clean and "<li>one</li>" in clean
    assert '<th scope="col">a</th>' in clean
    assert "<p>Hello</p>" in clean


def test_create_stores_sanitised_japanese_version_approved_by_the_author() -> None:
    koho = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    article = articles.create_article(
        topic="garbage",
        audience="everyone",
        districts=[],
        department="koho-kocho",
        valid_from=None,
        valid_until=None,
        urgent=False,
        title="  年末年始のごみ収集  ",
        summary="お休みです。",
        body_html="<p>本文<script>x()</script></p>",
        actor=koho,
    )
    version = article.versions.get()
    assert version.language == "ja"
    assert version.title == "年末年始のごみ収集"
    assert version.body_html == "<p>本文</p>"
    assert version.approved_by == koho and version.approved_at is not None
    assert article.status == Article.Status.DRAFT
    assert article.department is not None and article.department.code == "koho-kocho"
    assert AuditEvent.objects.filter(action="notices.article.created").count() == 1


def test_create_refuses_missing_text_bad_topic_and_reversed_window() -> None:
    now = timezone.now()
    with pytest.raises(articles.ArticleError) as caught:
        articles.create_article(
            topic="nonsense",
            audience="everyone",
            districts=[],
            department=None,
            valid_from=now,
            valid_until=now - dt.timedelta(days=1),
            urgent=False,
            title=" ",
            summary="",
            body_html="<script>only()</script>",
            actor=None,
        )
    assert set(caught.value.errors) == {"topic", "valid_until", "title", "body_html"}
    assert not Article.objects.exists()


def test_unknown_district_is_refused(geography: dict[str, Any]) -> None:
    with pytest.raises(articles.ArticleError) as caught:
        make_article(districts=["ueno-tobu", "atlantis"])
    assert "atlantis" in caught.value.errors["districts"][0]


# --- versions ----------------------------------------------------------------------------------


def test_translation_is_hidden_until_approved_then_used() -> None:
    article = make_article(translations={"en": "Garbage days change"}, approve=False)
    english = article.versions.get(language="en")
    assert english.approved_at is None
    assert articles.version_for(article, "en").language == "ja"
    assert article not in articles.published("en")

    articles.approve_version(english, None)
    assert articles.version_for(article, "en").title == "Garbage days change"
    assert article in articles.published("en")
    # a language with no version at all falls back to the original
    assert articles.version_for(article, "vi").language == "ja"


def test_editing_the_original_sends_translations_back_for_review() -> None:
    article = make_article(translations={"en": "Garbage", "pt-br": "Lixo"})
    assert article.versions.filter(approved_at__isnull=False).count() == 3
    articles.save_version(
        article, "ja", title="ごみ収集日の変更（訂正）", body_html="<p>新しい本文</p>", actor=None
    )
    states = dict(article.versions.values_list("language", "approved_at"))
    assert states["ja"] is not None
    assert states["en"] is None and states["pt-br"] is None
    assert articles.version_for(article, "en").language == "ja"
    event = (
        AuditEvent.objects.filter(action="notices.article.version_saved").order_by("-id").first()
    )
    assert event is not None and sorted(event.details["needs_review"]) == ["en", "pt-br"]


def test_saving_the_original_unchanged_keeps_approvals() -> None:
    article = make_article(translations={"en": "Garbage"})
    ja = article.versions.get(language="ja")
    articles.save_version(
        article, "ja", title=ja.title, summary=ja.summary, body_html=ja.body_html, actor=None
    )
    assert article.versions.get(language="en").approved_at is not None


def test_changing_an_approved_translation_needs_approval_again() -> None:
    article = make_article(translations={"en": "Garbage"})
    version = articles.save_version(
        article,
        "en",
        title="Garbage days",
        body_html="<p>changed</p>",
        machine_translated=True,
        actor=None,
    )
    assert version.approved_at is None and version.machine_translated


def test_unknown_language_is_refused() -> None:
    article = make_article()
    with pytest.raises(articles.ArticleError):
        articles.save_version(article, "klingon", title="x", body_html="<p>x</p>", actor=None)


def test_coverage_lists_every_language() -> None:
    article = make_article(translations={"en": "Garbage"})
    articles.save_version(article, "vi", title="Rác", body_html="<p>x</p>", actor=None)
    states = {row["code"]: row["state"] for row in articles.coverage(article)}
    assert states == {
        "ja": "original",
        "ja-easy": "missing",
        "pt-br": "missing",
        "vi": "review",
        "zh-hans": "missing",
        "es": "missing",
        "en": "approved",
    }


# --- publishing and the validity window ----------------------------------------------------------


def test_publish_sets_status_and_time_and_is_audited() -> None:
    article = make_article(publish=False)
    assert article not in articles.published()
    articles.publish(article, None, None)
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.published_at is not None
    assert article in articles.published()
    assert AuditEvent.objects.filter(action="notices.article.published").exists()


def test_publish_refuses_an_ended_article_and_one_without_japanese() -> None:
    past = timezone.now() - dt.timedelta(days=3)
    ended = make_article(publish=False, valid_from=past, valid_until=past + dt.timedelta(days=1))
    with pytest.raises(articles.ArticleError) as caught:
        articles.publish(ended, None, None)
    assert "valid_until" in caught.value.errors
    ended.refresh_from_db()
    assert ended.status == Article.Status.DRAFT

    ArticleVersion.objects.filter(article=ended, language="ja").delete()
    ended.valid_until = None
    ended.save()
    with pytest.raises(articles.ArticleError):
        articles.publish(ended, None, None)


def test_validity_window_decides_what_residents_see() -> None:
    now = timezone.now()
    current = make_article(title="今")
    future = make_article(title="これから", valid_from=now + dt.timedelta(days=2))
    ending = make_article(title="もうすぐ終わる", valid_until=now + dt.timedelta(hours=1))
    shown = set(articles.published())
    assert current in shown and ending in shown and future not in shown
    later = set(articles.published(now=now + dt.timedelta(days=3)))
    assert future in later and ending not in later and current in later


def test_urgent_first_then_newest() -> None:
    old = make_article(title="古い")
    urgent = make_article(title="至急", urgent=True)
    new = make_article(title="新しい")
    Article.objects.filter(pk=old.pk).update(published_at=timezone.now() - dt.timedelta(days=2))
    assert list(articles.published())[:3] == [urgent, new, old]


def test_withdraw_hides_the_article() -> None:
    article = make_article()
    articles.withdraw(article, None, None)
    assert article not in articles.published()
    with pytest.raises(articles.ArticleError):
        articles.withdraw(article, None, None)


def test_update_article_changes_settings(geography: dict[str, Any]) -> None:
    article = make_article()
    articles.update_article(
        article, actor=None, districts=["ueno-tobu"], urgent=True, audience="families"
    )
    article.refresh_from_db()
    assert [d.code for d in article.districts.all()] == ["ueno-tobu"]
    assert article.urgent and article.audience == "families"


# --- attachments -------------------------------------------------------------------------------


def test_pdf_png_and_jpeg_are_accepted_by_content() -> None:
    article = make_article()
    pdf = articles.add_attachment(article, upload("chirashi.pdf", PDF_BYTES), "チラシ", None)
    png = articles.add_attachment(article, upload("map.png", png_bytes()), "地図", None)
    jpg = articles.add_attachment(article, upload("photo.JPG", jpeg_bytes()), "写真", None)
    assert (pdf.content_type, png.content_type, jpg.content_type) == (
        "application/pdf",
        "image/png",
        "image/jpeg",
    )
    assert pdf.size == len(PDF_BYTES)
    assert pdf.file.read() == PDF_BYTES


def test_pdf_renamed_png_is_refused() -> None:
    article = make_article()
    with pytest.raises(articles.ArticleError) as caught:
        articles.add_attachment(article, upload("map.png", PDF_BYTES, "image/png"), "地図", None)
    assert "PDF" in caught.value.errors["file"][0]
    assert not article.attachments.exists()


def test_program_named_pdf_is_refused() -> None:
    article = make_article()
    with pytest.raises(articles.ArticleError) as caught:
        articles.add_attachment(
            article, upload("chirashi.pdf", EXE_BYTES, "application/pdf"), "チラシ", None
        )
    assert "file" in caught.value.errors
    assert not article.attachments.exists()


@override_settings(UPLOAD_MAX_MB=1)
def test_too_large_and_empty_files_are_refused() -> None:
    article = make_article()
    big = PDF_BYTES + b"0" * (1024 * 1024)
    with pytest.raises(articles.ArticleError) as caught:
        articles.add_attachment(article, upload("big.pdf", big), "大きい", None)
    assert "1 MB" in caught.value.errors["file"][0]
    with pytest.raises(articles.ArticleError):
        articles.add_attachment(article, upload("empty.pdf", b""), "空", None)
    with pytest.raises(articles.ArticleError) as caught:
        articles.add_attachment(article, upload("x.pdf", PDF_BYTES), " ", None)
    assert "title" in caught.value.errors


# --- alerts --------------------------------------------------------------------------------------


def _alert_message(districts: list[str]) -> Message:
    return Message.objects.create(
        kind=Message.Kind.EMERGENCY,
        topic="emergency",
        level=Message.Level.LEVEL4,
        content={
            "ja-easy": {
                "subject": "にげて　ください",
                "body": "((name))さん\nひなんじょへ　いって　ください。",
            },
            "ja": {
                "subject": "避難指示（警戒レベル4）",
                "body": "上野東部地区に避難指示。\n\n避難所へ。",
            },
            "en": {"subject": "Evacuation order (level 4)", "body": "Go to a shelter now."},
        },
        filters={"districts": districts},
        state=Message.State.SENDING,
    )


def test_alert_article_is_urgent_published_approved_and_district_bound(
    geography: dict[str, Any],
) -> None:
    bosai = make_staff("bosai@city.iga.example", "clerk", "bosai")
    message = _alert_message(["ueno-tobu"])
    article = articles.publish_alert_article(message, bosai)
    assert article.urgent and article.topic == "emergency"
    assert article.status == Article.Status.PUBLISHED
    assert [d.code for d in article.districts.all()] == ["ueno-tobu"]
    assert article.valid_until is not None and article.published_at is not None
    hours = (article.valid_until - article.published_at).total_seconds() / 3600
    assert hours == pytest.approx(48)
    versions = {v.language: v for v in article.versions.all()}
    assert set(versions) == {"ja", "ja-easy", "en"}
    assert all(v.approved_at is not None and v.approved_by == bosai for v in versions.values())
    assert versions["ja"].title == "避難指示（警戒レベル4）"
    assert "((name))" not in versions["ja-easy"].body_html
    assert versions["ja"].body_html == "<p>上野東部地区に避難指示。</p><p>避難所へ。</p>"
    message.refresh_from_db()
    assert message.article_id == article.pk
    # called again for the same message: the same article
    assert articles.publish_alert_article(message, bosai) == article
    assert Article.objects.count() == 1

    assert articles.active_alerts() == [article]
    assert articles.active_alerts("ueno-tobu") == [article]
    assert articles.active_alerts("aoyama-hokubu") == []


def test_city_wide_alert_concerns_every_district(geography: dict[str, Any]) -> None:
    article = articles.publish_alert_article(_alert_message([]), None)
    assert articles.active_alerts("aoyama-hokubu") == [article]
    Article.objects.filter(pk=article.pk).update(valid_until=timezone.now())
    assert articles.active_alerts() == []


# --- demo data ---------------------------------------------------------------------------------


def test_demo_articles_load_once() -> None:
    added = articles.seed_demo_articles()
    assert added >= 12
    assert articles.seed_demo_articles() == 0
    shown = list(articles.published())
    assert len(shown) == added
    assert {a.topic for a in shown} >= {"garbage", "childcare", "health", "disaster", "tax"}
    translated = [a for a in shown if articles.version_for(a, "pt-br").language == "pt-br"]
    assert len(translated) >= 4
    machine = ArticleVersion.objects.filter(machine_translated=True)
    assert machine.exists()


def test_an_edit_with_a_refused_text_leaves_the_settings_as_they_were() -> None:
    article = make_article(publish=False)
    with pytest.raises(articles.ArticleError):
        articles.edit_article(article, title="", body_html="", actor=None, topic="tax", urgent=True)
    article.refresh_from_db()
    assert (article.topic, article.urgent) == ("garbage", False)
