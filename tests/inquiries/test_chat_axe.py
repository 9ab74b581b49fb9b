"""The chat pages in a real browser: axe-core finds nothing on /ask/ (answers, clarify,
nothing found, a bad question), the hand-over form (also with errors), the sent page and
the home page with the panel — at 1280 px and 360 px, in ja, en and pt-br, and nothing
scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
)
from tests.inquiries.test_chat_service import make_faq

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_chat_pages(
    browser: Any, live_server: Any, viewport: dict[str, int], smtp_server: Any
) -> None:
    make_faq()
    base = live_server.url
    width = viewport["width"]
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        for language in ("ja", "en", "pt-br"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + "/")
            assert page.locator(".chat-panel").count() == 1
            assert_axe_clean(page, f"home with the panel ({language})", width)
            page.goto(base + "/ask/")
            assert_axe_clean(page, f"empty ask page ({language})", width)
            page.goto(base + "/ask/?q=%E7%87%83%E3%81%88%E3%82%8B%E3%81%94%E3%81%BF")  # 燃えるごみ
            page.wait_for_load_state("load")
            assert page.locator(".chat-answer--first").count() == 1
            assert_axe_clean(page, f"answer ({language})", width)
            # a follow-up that needs a choice, one that finds nothing, one that is bad
            for question, marker in (
                ("粗大ごみの出し方", ".chat-clarify"),
                ("ロケットの打ち上げ", ".chat-nothing"),
            ):
                page.fill("#chat-q", question)
                page.locator("main form.chat-form button[type=submit]").click()
                page.locator(marker).last.wait_for()
                page.wait_for_load_state("load")
            page.locator(".chat-clarify + .chat-choices summary").first.click()
            page.locator("button[value=no]").first.click()
            page.locator(".chat-feedback__done").first.wait_for()
            assert_axe_clean(page, f"clarify, nothing found, did not help ({language})", width)
            url = page.url.split("#")[0]
            page.goto(url)  # the same conversation as a whole page, no JavaScript swaps
            assert page.locator(".chat-nothing").count() == 1
            assert_axe_clean(page, f"whole conversation ({language})", width)
            page.fill("#chat-q", "🙂")
            page.locator("main form.chat-form button[type=submit]").click()
            page.locator(".chat-turn--error").wait_for()
            assert_axe_clean(page, f"bad question with htmx ({language})", width)
            page.goto(base + "/ask/?q=%20")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"bad question ({language})", width)
            page.goto(url)
            page.locator("main a[href$='/handover/']").first.click()
            page.wait_for_load_state("load")
            assert_axe_clean(page, f"hand-over form ({language})", width)
            page.fill("#id_email", "not-an-address")
            page.locator("#handover-form button[type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"hand-over form with errors ({language})", width)
            page.fill("#id_email", "ana@example.com")
            page.locator("#handover-form button[type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("#handover-reference").count() == 1
            assert_axe_clean(page, f"hand-over sent ({language})", width)
    finally:
        context.close()
