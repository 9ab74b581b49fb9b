"""Notification settings, inbox and unsubscribe pages in a real browser: axe-core finds
nothing (phone and desktop, several languages, also with the error summary showing),
nothing scrolls sideways at 360 px, and the settings form works by keyboard alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cityhall.notices.models import DeliveryPreferences, InboxItem, LineLink
from cityhall.notices.services.common import unsubscribe_token
from cityhall.people.services import accounts
from tests.e2e.helpers import (
    DESKTOP,
    HTML_LANG,
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    run_axe,
    session_cookie,
    tab_to,
)
from tests.notices.prefs_support import resident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hanako(transactional_db: Any) -> Any:
    from cityhall.core.models import Area, District

    area = Area.objects.create(code="ueno", name="上野", names={"en": "Ueno"}, order=1)
    district = District.objects.create(code="ueno-tobu", name="上野東部", area=area, order=1)
    user = resident(district=district, interests=("garbage", "events"))
    LineLink.objects.create(user=user, line_user_id="U" + "5" * 32, display_name="はなこ")
    DeliveryPreferences.objects.create(user=user, quiet_start=dt.time(21), quiet_end=dt.time(7))
    now = timezone.now()
    InboxItem.objects.create(
        user=user,
        kind="alert",
        source_key="a",
        title="【避難指示】上野東部",
        body="直ちに避難してください。",
        urgent=True,
        created_at=now - dt.timedelta(hours=1),
    )
    InboxItem.objects.create(
        user=user,
        kind="payment",
        source_key="b",
        title="Payment received: 個人住民税, ¥12,345",
        url="/payments/",
        read_at=now,
        created_at=now,
    )
    return user


@pytest.fixture
def open_page(browser: Any, live_server: Any, client: Client, hanako: Any) -> Iterator[Any]:
    """New pages, logged in as the resident unless ``logged_in=False``."""
    client.force_login(hanako)
    jar = session_cookie(client)
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = PHONE, *, logged_in: bool = True) -> Any:
        context = browser.new_context(
            viewport=viewport,
            bypass_csp=True,  # only so that axe-core can be injected
            reduced_motion="reduce",
            locale="ja-JP",
        )
        context.set_default_timeout(15_000)
        if logged_in:
            context.add_cookies(
                [{"name": k, "value": v, "url": live_server.url} for k, v in jar.items()]
            )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _check(page: Any, what: str, language: str, viewport: dict[str, int]) -> list[str]:
    lang = page.locator("html").get_attribute("lang")
    assert lang == HTML_LANG[language], (what, language, lang)
    problems = []
    violations = run_axe(page)
    if violations:
        problems.append(
            f"{what} ({language}, {viewport['width']} px):\n" + format_violations(violations)
        )
    if viewport is PHONE:
        assert_no_horizontal_scroll(page, PHONE["width"])
    return problems


def test_axe_finds_nothing_on_settings_inbox_and_unsubscribe(
    open_page: Any, live_server: Any, hanako: Any
) -> None:
    base = live_server.url
    item = InboxItem.objects.get(user=hanako, source_key="a")
    urls = {
        "settings": reverse("notices:preferences"),
        "inbox": reverse("notices:inbox"),
        "inbox item": reverse("notices:inbox_item", args=[item.pk]),
    }
    unsubscribe = reverse(
        "notices:unsubscribe", args=[unsubscribe_token(hanako.pk, "garbage", "email")]
    )
    problems: list[str] = []
    for viewport in (PHONE, DESKTOP):
        page = open_page(viewport)
        visitor = open_page(viewport, logged_in=False)
        for language in ("ja", "en", "pt-br", "vi"):
            for p in (page, visitor):
                p.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            for what, url in urls.items():
                response = page.goto(base + url)
                assert response is not None and response.status == 200, (what, language)
                problems += _check(page, what, language, viewport)
            # the settings page with its error summary
            page.goto(base + urls["settings"])
            page.fill("#id_quiet_start", "22:00")
            page.fill("#id_quiet_end", "22:00")
            with page.expect_navigation():
                page.click("#save-preferences")
            assert page.locator("#error-summary").is_visible()
            problems += _check(page, "settings with errors", language, viewport)
            # the unsubscribe pages, as the mail client's user sees them (no login)
            response = visitor.goto(base + unsubscribe)
            assert response is not None and response.status == 200
            problems += _check(visitor, "unsubscribe", language, viewport)
            response = visitor.goto(base + reverse("notices:unsubscribe", args=["broken"]))
            assert response is not None and response.status == 400
            problems += _check(visitor, "unsubscribe (bad link)", language, viewport)
    # and the page after the confirmation
    visitor = open_page(PHONE, logged_in=False)
    visitor.goto(base + unsubscribe)
    with visitor.expect_navigation():
        visitor.click("#confirm-unsubscribe")
    problems += _check(visitor, "unsubscribed", "ja", PHONE)
    assert accounts.profile_of(hanako).interests == ["events"]
    assert not problems, "\n".join(problems)


def test_the_settings_form_by_keyboard_alone(open_page: Any, live_server: Any, hanako: Any) -> None:
    page = open_page(PHONE)
    page.context.add_cookies([{"name": "cityhall_lang", "value": "en", "url": live_server.url}])
    page.goto(live_server.url + reverse("notices:preferences"))
    # switch a topic on with Space
    tab_to(page, "input[name=topics][value=childcare]")
    page.keyboard.press("Space")
    assert page.is_checked("input[name=topics][value=childcare]")
    # and emergency alerts
    tab_to(page, "#id_emergency")
    page.keyboard.press("Space")
    assert page.is_checked("#id_emergency")
    # submit with Enter from the checkbox (implicit submission: the first submit button
    # of the form is Save — the LINE unlink button belongs to another form)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert page.url.endswith(reverse("notices:preferences"))
    assert "Your notification settings are saved." in page.inner_text("main")
    assert accounts.profile_of(hanako).interests == ["childcare", "garbage", "events"]
    assert accounts.consents(hanako)["emergency"] is True
    # LINE is still linked and chosen: Enter did not press the unlink button
    assert LineLink.objects.filter(user=hanako).exists()
