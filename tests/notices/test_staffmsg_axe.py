"""Templates, compose and the delivery board in a real browser: axe-core finds nothing at
desktop size and at 360 px (with errors shown too), nothing scrolls sideways, and the
board updates its numbers in place while the message is sent."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.notices.models import Delivery, Message
from tests.conftest import login_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    session_cookie,
)
from tests.notices.conftest import make_template
from tests.notices.staffmsg_support import make_koho, make_town

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(geography: dict[str, Any]) -> dict[str, Any]:
    town = make_town(geography)
    template = make_template()
    koho = make_koho()
    message = Message.objects.create(
        kind="news",
        topic="events",
        template=template,
        segment=town["segment"],
        content={
            code: {"subject": f"件名 {code}", "body": f"本文 {code}\n二行目"}
            for code in ("ja", "ja-easy", "en", "vi")
        },
        channels=["email", "inbox"],
        state=Message.State.SENDING,
        recipients=2,
        created_by=koho,
    )
    rows = [
        (town["hanako"], "email", "sent"),
        (town["hanako"], "inbox", "opened"),
        (town["lan"], "inbox", "queued"),
    ]
    for user, channel, state in rows:
        Delivery.objects.create(message=message, user=user, channel=channel, state=state)
    return {**town, "template": template, "koho": koho, "message": message}


def _page(browser: Any, live_server: Any, client: Any, user: Any, viewport: dict[str, int]) -> Any:
    login_staff(client, user)
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": k, "value": v, "url": live_server.url} for k, v in session_cookie(client).items()]
    )
    return context.new_page()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_templates_compose_and_board(
    browser: Any, live_server: Any, client: Any, world: dict[str, Any], viewport: dict[str, int]
) -> None:
    page = _page(browser, live_server, client, world["koho"], viewport)
    base = live_server.url
    width = viewport["width"]
    try:
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("noticestaff:messages"))
            assert_axe_clean(page, f"messages ({language})", width)

            page.goto(base + reverse("noticestaff:templates"))
            assert_axe_clean(page, f"templates ({language})", width)

            page.goto(base + reverse("noticestaff:template", args=[world["template"].pk]))
            assert page.locator("#id_subject_ja_easy").get_attribute("lang") == "ja"
            assert_axe_clean(page, f"template edit ({language})", width)
            page.locator("#id_body_vi").fill("Không có chỗ giữ chỗ")
            page.locator("#id_subject_es").fill("")
            page.locator("button[type=submit]").last.click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"template edit, errors ({language})", width)

            page.goto(base + reverse("noticestaff:message_new"))
            assert_axe_clean(page, f"compose step 1 ({language})", width)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"compose step 1, errors ({language})", width)

            page.locator("#id_template").select_option(str(world["template"].pk))
            page.locator("#id_segment").select_option(str(world["segment"].pk))
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state("load")
            assert page.locator("#id_value_event").count() == 1
            assert_axe_clean(page, f"compose step 2 ({language})", width)

            page.locator("#id_when_1").check()
            page.locator("button[value=review]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"compose step 2, errors ({language})", width)

            page.locator("#id_when_0").check()
            page.locator("#id_value_event").fill("忍者まつり")
            page.locator("#id_value_date").fill("4月1日")
            page.locator("button[value=review]").click()
            page.wait_for_load_state("load")
            assert page.locator("button[value=send]").count() == 1
            assert_axe_clean(page, f"compose confirm ({language})", width)

            page.goto(base + reverse("noticestaff:message", args=[world["message"].pk]))
            assert page.locator("#board table").count() == 1
            assert_axe_clean(page, f"board ({language})", width)

            page.locator("form[action$='cancel/'] button").click()
            page.wait_for_load_state("load")
            assert_axe_clean(page, f"cancel confirm ({language})", width)
    finally:
        page.context.close()


def test_board_updates_in_place_and_stops_when_done(
    browser: Any, live_server: Any, client: Any, world: dict[str, Any]
) -> None:
    page = _page(browser, live_server, client, world["koho"], DESKTOP)
    message: Message = world["message"]
    try:
        page.context.add_cookies([{"name": "cityhall_lang", "value": "en", "url": live_server.url}])
        page.goto(live_server.url + reverse("noticestaff:message", args=[message.pk]))
        assert page.locator('[data-cell="inbox.queued"]').inner_text() == "1"
        assert page.locator(".board-refresh").is_hidden()  # the script polls instead
        table = page.locator("#board table").element_handle()

        Delivery.objects.filter(message=message, state="queued").update(state="failed")
        page.wait_for_function(
            "document.querySelector('[data-cell=\"inbox.failed\"]').textContent === '1'"
        )
        assert page.locator('[data-cell="inbox.queued"]').inner_text() == "0"
        # the same table, updated in place
        assert page.evaluate("t => t.isConnected", table)

        Message.objects.filter(pk=message.pk).update(state=Message.State.DONE)
        page.wait_for_function("document.getElementById('board').dataset.done === 'true'")
        assert "Finished" in page.locator("#board-live").inner_text()
        assert page.locator(".board-refresh").count() == 0
        assert_axe_clean(page, "board, done", DESKTOP["width"])
    finally:
        page.context.close()
