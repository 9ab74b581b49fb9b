"""The LINE pages a resident can meet (linking not available, linking failed) and the HTML
e-mail, in a real browser: axe-core finds nothing, at desktop width and at 360 px."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.notices.channels import email as email_channel
from tests.conftest import make_resident
from tests.e2e.helpers import (
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    run_axe,
    session_cookie,
)
from tests.notices.test_channels_support import outgoing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)]


def _clean(page: Any, what: str, width: int) -> None:
    violations = run_axe(page)
    assert not violations, f"{what}: {page.url}\n{format_violations(violations)}"
    if width == PHONE["width"]:
        assert_no_horizontal_scroll(page, width)


def test_axe_on_the_line_pages(
    browser: Any, live_server: Any, client: Client, settings: Any
) -> None:
    resident = make_resident("line-axe@example.jp")
    client.force_login(resident)
    base = live_server.url
    for name, viewport in VIEWPORTS:
        context = browser.new_context(viewport=viewport, bypass_csp=True, locale="ja-JP")
        context.add_cookies(
            [{"name": k, "value": v, "url": base} for k, v in session_cookie(client).items()]
        )
        page = context.new_page()
        for language in ("ja", "en", "pt-br"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            settings.LINE_LOGIN_CHANNEL_ID = ""
            page.goto(base + reverse("notices:line_link"))
            assert page.locator("h1").count() == 1
            _clean(page, f"LINE not available ({name}, {language})", viewport["width"])

            settings.LINE_LOGIN_CHANNEL_ID = "1650000000"
            settings.LINE_LOGIN_CHANNEL_SECRET = "secret"
            page.goto(base + reverse("notices:line_callback") + "?code=x&state=y")
            assert page.locator("[role=alert]").count() == 1
            _clean(page, f"LINE error ({name}, {language})", viewport["width"])
        context.close()


@pytest.mark.parametrize("dark", [False, True])
def test_axe_on_the_html_email(browser: Any, dark: bool) -> None:
    for language, subject in (("ja", "避難所を開設しました"), ("pt-br", "Inscrições abertas")):
        item = outgoing(
            language=language,
            subject=subject,
            urgent=language == "ja",
            unsubscribe_url="https://city.iga.example/unsubscribe/abc/",
        )
        _subject, _text, html = email_channel.render(item)
        for name, viewport in VIEWPORTS:
            context = browser.new_context(
                viewport=viewport, color_scheme="dark" if dark else "light"
            )
            page = context.new_page()
            page.set_content(html)
            _clean(page, f"e-mail ({language}, {name}, dark={dark})", viewport["width"])
            context.close()
