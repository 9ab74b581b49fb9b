"""The news pages in a real browser: axe-core finds nothing on /news/ (also with a filter
error), an article (translated and Japanese-only, with files and the alert banner), the
home page and my page with the personal feed, and the staff article pages — at desktop
width and at 360 px, where nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cityhall.notices.models import InboxItem, Message
from cityhall.notices.services import articles
from cityhall.people.models import Consent
from tests.conftest import login_staff, make_resident, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    axe_context,
)
from tests.notices.articles_support import PDF_BYTES, make_article, upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _world() -> dict[str, Any]:
    from cityhall.core.models import Area, District

    ueno = Area.objects.create(code="ueno", name="上野", names={"en": "Ueno"}, order=1)
    district = District.objects.create(
        code="ueno-tobu", name="上野東部", names={"en": "Ueno Tobu"}, area=ueno, order=1
    )
    translated = make_article(
        title="年末年始のごみ収集日が変わります",
        summary="12月31日から1月3日まではお休みです。",
        body_html=(
            "<p>年末年始は収集日が変わります。</p><h2>日程</h2><ul><li>12月30日まで：通常</li>"
            "<li>1月5日から：通常</li></ul><table><caption>日程</caption><thead><tr>"
            "<th scope='col'>日</th><th scope='col'>収集</th></tr></thead><tbody><tr>"
            "<td>12月31日</td><td>なし</td></tr></tbody></table>"
            "<p><a href='tel:0595229624'>0595-22-9624</a></p>"
        ),
        translations={"en": "Garbage days change over the New Year", "pt-br": "Coleta de lixo"},
    )
    articles.add_attachment(translated, upload("flyer.pdf", PDF_BYTES), "チラシ", None)
    japanese = make_article(title="上野の防災訓練", topic="disaster", districts=["ueno-tobu"])
    Message.objects.create(
        kind=Message.Kind.EMERGENCY,
        topic="emergency",
        content={
            "ja": {"subject": "避難指示（警戒レベル4）", "body": "避難してください。"},
            "en": {"subject": "Evacuation order (level 4)", "body": "Go to a shelter now."},
        },
        filters={"districts": ["ueno-tobu"]},
    )
    articles.publish_alert_article(Message.objects.get(), None)
    resident = make_resident(
        "family@example.jp",
        district=district,
        interests=["garbage", "disaster"],
        children_birth_years=[timezone.localdate().year - 2],
    )
    Consent.objects.create(user=resident, purpose="personalise", granted=True)
    InboxItem.objects.create(
        user=resident, kind="payment", source_key="p:1", title="納期限のお知らせ", url="/"
    )
    koho = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    return {"translated": translated, "japanese": japanese, "resident": resident, "koho": koho}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_resident_news_pages(
    browser: Any, live_server: Any, client: Any, viewport: dict[str, int]
) -> None:
    world = _world()
    base = live_server.url
    width = viewport["width"]
    context = axe_context(browser, live_server, None, viewport)
    page = context.new_page()
    try:
        for language in ("ja", "en", "pt-br"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("notices:news"))
            assert page.locator(".alert-banner").count() == 1
            assert_axe_clean(page, f"news ({language})", width)
            page.goto(base + reverse("notices:news") + "?topic=nonsense")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"news, filter error ({language})", width)
            for article in (world["translated"], world["japanese"]):
                page.goto(base + reverse("notices:article", args=[article.slug]))
                assert_axe_clean(page, f"article ({language})", width)
            page.goto(base + reverse("portal:home"))
            assert_axe_clean(page, f"home with news ({language})", width)
    finally:
        context.close()

    client.force_login(world["resident"])
    context = axe_context(browser, live_server, client, viewport)
    page = context.new_page()
    try:
        for language in ("ja", "en"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("portal:home"))
            assert page.locator("#home-news").count() == 1
            assert_axe_clean(page, f"home with personal feed ({language})", width)
            page.goto(base + reverse("portal:mypage"))
            assert page.locator("#mypage-news").count() == 1
            assert_axe_clean(page, f"my page with feed ({language})", width)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_staff_article_pages(
    browser: Any, live_server: Any, client: Any, viewport: dict[str, int]
) -> None:
    world = _world()
    draft = make_article(title="下書きのお知らせ", publish=False)
    articles.save_version(draft, "vi", title="Bản nháp", body_html="<p>x</p>", actor=None)
    login_staff(client, world["koho"])
    base = live_server.url
    width = viewport["width"]
    context = axe_context(browser, live_server, client, viewport)
    page = context.new_page()
    try:
        for language in ("ja", "en"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("noticestaff:articles"))
            assert_axe_clean(page, f"articles ({language})", width)
            page.goto(base + reverse("noticestaff:article_new"))
            assert_axe_clean(page, f"new article ({language})", width)
            page.locator("main form[novalidate] button[type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"new article, errors ({language})", width)
            page.goto(base + reverse("noticestaff:article", args=[draft.pk]))
            assert_axe_clean(page, f"article edit ({language})", width)
            page.goto(base + reverse("noticestaff:article", args=[world["translated"].pk]))
            assert_axe_clean(page, f"published article ({language})", width)
            page.goto(base + reverse("noticestaff:article_version", args=[draft.pk, "vi"]))
            assert_axe_clean(page, f"version ({language})", width)
            page.goto(base + reverse("noticestaff:article_files", args=[world["translated"].pk]))
            assert_axe_clean(page, f"files ({language})", width)
            page.locator("main form[enctype] button[type=submit]").click()  # nothing: 422
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"files, errors ({language})", width)
    finally:
        context.close()
