"""The chat in a real browser, by keyboard only and under the strict CSP: Tab to the panel
on the home page, type, Enter → the answer appears in place and takes the focus; "This did
not help" → the offers take the focus → "Talk to a person" → the hand-over form → the
reference. And the same panel without JavaScript goes to the answer page."""

from __future__ import annotations

from typing import Any

import pytest

from cityhall.inquiries.models import ChatTurn, Ticket
from tests.e2e.helpers import focused, press, tab_to
from tests.inquiries.test_chat_service import make_faq

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_keyboard_only_ask_feedback_and_handover(
    browser: Any, live_server: Any, smtp_server: Any
) -> None:
    make_faq()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    base = live_server.url
    context.add_cookies([{"name": "cityhall_lang", "value": "en", "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(base + "/")
        page.wait_for_function("() => window.htmx !== undefined")
        tab_to(page, "#chat-panel-q")
        page.keyboard.type("Where can I apply for a passport?")
        press(page, "Enter")
        heading = page.locator("#chat-panel-log .chat-turn__question")
        heading.wait_for()
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.matches('.chat-turn__question')"
        )
        assert "Where can I apply for a passport?" in heading.inner_text()
        assert "citizens' counter" in page.locator("#chat-panel-log").inner_text()
        assert page.url.rstrip("/") == base  # answered in place
        assert page.locator("#chat-panel-q").input_value() == ""

        tab_to(page, "#chat-panel-log button[value=no]")
        press(page, "Enter")
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.matches('.chat-feedback__done')"
        )
        assert "did not help" in (focused(page) or {}).get("text", "")
        tab_to(page, "#chat-panel-log .chat-offers a[href$='/handover/']")
        press(page, "Enter", navigates=True)
        assert "/handover/" in page.url
        tab_to(page, "#id_email")
        page.keyboard.type("ana@example.com")
        press(page, "Enter", navigates=True)
        reference = page.locator("#handover-reference").inner_text()
        ticket = Ticket.objects.get()
        assert reference == ticket.reference and ticket.channel == "chat"
        turn = ticket.conversation.turns.get(role=ChatTurn.Role.ASSISTANT)
        assert turn.feedback == ChatTurn.Feedback.NOT_HELPED
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()


def test_panel_without_javascript_goes_to_the_answer_page(browser: Any, live_server: Any) -> None:
    make_faq()
    context = browser.new_context(java_script_enabled=False, locale="ja-JP")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.fill("#chat-panel-q", "燃えるごみの収集日")
        with page.expect_navigation():
            page.press("#chat-panel-q", "Enter")
        page.wait_for_load_state("load")
        assert "/ask/?c=" in page.url and "#turn-" in page.url
        assert "燃えるごみは地区ごとに週2回収集します。" in page.locator("main").inner_text()
        page.locator("button[value=yes]").click()
        page.wait_for_load_state("load")
        assert page.locator(".chat-feedback__done").count() == 1
    finally:
        context.close()
