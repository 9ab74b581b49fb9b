"""The personal feed: which articles concern a resident (district, audience, interests,
urgency), only with the ``personalise`` consent, plus their inbox items, urgent first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cityhall.notices.models import Article, InboxItem, Message
from cityhall.notices.services import articles
from cityhall.notices.services.feed import audiences_for, personal_feed, public_feed
from cityhall.people.models import Consent
from tests.conftest import make_resident
from tests.notices.articles_support import make_article

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def _resident(email: str, *, consent: bool = True, **profile: Any) -> Any:
    user = make_resident(email, **profile)
    Consent.objects.create(user=user, purpose="personalise", granted=consent)
    return user


def _titles(user: Any, language: str = "ja") -> list[str]:
    return [entry.title for entry in personal_feed(user, language)]


def test_district_decides_between_city_wide_and_other_districts(
    geography: dict[str, Any],
) -> None:
    user = _resident("ueno@example.jp", district=geography["ueno-tobu"], interests=["garbage"])
    make_article(title="市全体", topic="garbage")
    make_article(title="上野東部", topic="garbage", districts=["ueno-tobu"])
    make_article(title="青山北部", topic="garbage", districts=["aoyama-hokubu"])
    assert set(_titles(user)) == {"市全体", "上野東部"}


def test_interests_filter_topics_but_urgent_and_emergency_always_show(
    geography: dict[str, Any],
) -> None:
    user = _resident("x@example.jp", interests=["events"])
    make_article(title="イベント", topic="events")
    make_article(title="税", topic="tax")
    make_article(title="至急の税", topic="tax", urgent=True)
    make_article(title="防災情報", topic="emergency")
    assert set(_titles(user)) == {"イベント", "至急の税", "防災情報"}


def test_audience_families_only_with_children_under_18() -> None:
    parent = _resident("p@example.jp", children_birth_years=[YEAR - 4], interests=["childcare"])
    grown = _resident("g@example.jp", children_birth_years=[YEAR - 25], interests=["childcare"])
    make_article(title="子育て", topic="childcare", audience="families")
    assert _titles(parent) == ["子育て"]
    assert _titles(grown) == []


def test_audience_elderly_and_foreign() -> None:
    older = _resident("o@example.jp", birth_year=YEAR - 70, interests=["elderly"])
    carer = _resident(
        "c@example.jp", birth_year=YEAR - 40, care_in_household=True, interests=["elderly"]
    )
    young = _resident("y@example.jp", birth_year=YEAR - 30, interests=["elderly"])
    make_article(title="介護予防", topic="elderly", audience="elderly")
    assert _titles(older) == ["介護予防"] and _titles(carer) == ["介護予防"]
    assert _titles(young) == []

    reader = _resident("pt@example.jp", preferred_language="pt-br", interests=["multicultural"])
    local = _resident("ja@example.jp", interests=["multicultural"])
    make_article(
        title="相談窓口",
        topic="multicultural",
        audience="foreign",
        translations={"pt-br": "Atendimento"},
    )
    assert _titles(reader, "pt-br") == ["Atendimento"]
    assert _titles(local) == []


def test_without_consent_only_city_wide_articles(geography: dict[str, Any]) -> None:
    user = _resident(
        "noconsent@example.jp",
        consent=False,
        district=geography["ueno-tobu"],
        interests=["events"],
    )
    make_article(title="市全体の税", topic="tax")
    make_article(title="上野東部のイベント", topic="events", districts=["ueno-tobu"])
    assert _titles(user) == ["市全体の税"]
    # granting the consent brings the district in (latest row wins)
    Consent.objects.create(user=user, purpose="personalise", granted=True)
    assert set(_titles(user)) == {"上野東部のイベント"}


def test_inbox_items_merge_with_articles_urgent_and_newest_first() -> None:
    user = _resident("inbox@example.jp", interests=["events"])
    now = timezone.now()
    make_article(title="イベント", topic="events")
    Article.objects.update(published_at=now - dt.timedelta(hours=2))
    InboxItem.objects.create(
        user=user,
        kind="application",
        source_key="app:1",
        title="申請を受け付けました",
        created_at=now - dt.timedelta(hours=1),
    )
    InboxItem.objects.create(
        user=user,
        kind="payment",
        source_key="pay:1",
        title="古い通知",
        created_at=now - dt.timedelta(days=3),
    )
    other = make_resident("other@example.jp")
    InboxItem.objects.create(user=other, kind="payment", source_key="pay:2", title="他人の通知")
    entries = personal_feed(user, "ja")
    assert [e.title for e in entries] == ["申請を受け付けました", "イベント", "古い通知"]
    assert entries[0].kind == "application" and entries[0].unread
    assert entries[0].url == f"/my/inbox/{InboxItem.objects.get(source_key='app:1').pk}/"
    assert entries[1].kind == "article" and entries[1].url.startswith("/news/")
    assert len(personal_feed(user, "ja", limit=2)) == 2


def test_alert_shows_once_even_with_its_inbox_item(geography: dict[str, Any]) -> None:
    user = _resident("alert@example.jp", district=geography["ueno-tobu"])
    message = Message.objects.create(
        kind=Message.Kind.EMERGENCY,
        topic="emergency",
        content={"ja": {"subject": "避難指示", "body": "避難してください。"}},
        filters={"districts": ["ueno-tobu"]},
    )
    article = articles.publish_alert_article(message, None)
    InboxItem.objects.create(
        user=user,
        kind="alert",
        source_key="delivery:1",
        title="避難指示",
        urgent=True,
        message=message,
    )
    make_article(title="イベント", topic="events")
    entries = personal_feed(user, "ja")
    assert [e.title for e in entries] == ["避難指示"]
    assert entries[0].kind == "alert" and entries[0].urgent
    assert entries[0].url == f"/news/{article.slug}/"


def test_language_and_translation_flags() -> None:
    user = _resident("en@example.jp", preferred_language="en", interests=["garbage"])
    make_article(title="ごみ", topic="garbage", translations={"en": "Garbage"})
    make_article(title="ごみ2", topic="garbage")
    entries = {e.title: e for e in personal_feed(user, "en")}
    assert entries["Garbage"].translated and entries["Garbage"].lang == "en"
    assert not entries["ごみ2"].translated and entries["ごみ2"].lang == "ja"


def test_public_feed_is_city_wide_plus_the_asked_district(geography: dict[str, Any]) -> None:
    make_article(title="市全体")
    make_article(title="上野", districts=["ueno-tobu"])
    assert [e.title for e in public_feed("ja")] == ["市全体"]
    assert {e.title for e in public_feed("ja", "ueno-tobu")} == {"市全体", "上野"}


def test_audiences_for_business_interest() -> None:
    user = make_resident("biz@example.jp", interests=["jobs"])
    assert "business" in audiences_for(user.profile)
