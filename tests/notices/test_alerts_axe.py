"""The emergency alert page in a real browser: axe-core finds nothing (plain, with errors,
with the confirm step) at desktop size and 360 px, and a member of the crisis-management
department sends an alert to one district with the keyboard alone — Tab, Space, Enter —
and lands on the delivery board."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.notices.models import Delivery, Message
from cityhall.notices.services import templates
from tests.conftest import login_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    press,
    session_cookie,
    tab_to,
)
from tests.notices.conftest import make_notice_resident
from tests.notices.staffmsg_support import make_bosai

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(geography: dict[str, Any]) -> dict[str, Any]:
    from cityhall.core.models import Facility

    templates.seed_templates()
    d1, d2 = geography["ueno-tobu"], geography["aoyama-hokubu"]
    # placeholder addresses: only the inbox reaches them, so nothing leaves the machine
    residents = [
        make_notice_resident("ueno-1@example.invalid", district=d1, channels=["inbox"]),
        make_notice_resident("ueno-2@example.invalid", district=d1, language="pt-br"),
        make_notice_resident("aoyama-1@example.invalid", district=d2, channels=["inbox"]),
    ]
    Facility.objects.create(
        code="ueno-shelter", kind=Facility.Kind.SHELTER, name="上野東小学校", district=d1
    )
    return {"bosai": make_bosai(), "residents": residents, "d1": d1, "d2": d2}


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
def test_axe_on_the_alert_page(
    browser: Any, live_server: Any, client: Any, world: dict[str, Any], viewport: dict[str, int]
) -> None:
    page = _page(browser, live_server, client, world["bosai"], viewport)
    base = live_server.url
    width = viewport["width"]
    try:
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("noticestaff:alert_new"))
            assert_axe_clean(page, f"alert ({language})", width)

            page.locator("#send-alert").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"alert, errors ({language})", width)

            page.locator("label", has_text="警戒レベル4").click()
            page.locator("#id_districts_0").check()
            page.locator("#id_shelter_facility").select_option("ueno-shelter")
            page.locator("#send-alert").click()
            page.wait_for_load_state("load")
            assert page.locator("#confirm-send").count() == 1
            assert_axe_clean(page, f"alert, confirm ({language})", width)
        assert Message.objects.count() == 0
    finally:
        page.context.close()


def test_keyboard_only_alert_to_one_district(
    browser: Any, live_server: Any, client: Any, world: dict[str, Any]
) -> None:
    page = _page(browser, live_server, client, world["bosai"], DESKTOP)
    try:
        page.context.add_cookies([{"name": "cityhall_lang", "value": "en", "url": live_server.url}])
        page.goto(live_server.url + reverse("noticestaff:alert_new"))
        # the first preset (避難指示の解除: area and time only; the time is filled in)
        tab_to(page, "input[name=template]")
        press(page, "Space")
        assert page.evaluate("document.activeElement.checked")
        # 上野東部 only
        tab_to(page, "#id_districts_0")
        press(page, "Space")
        assert page.locator("#id_districts_0").is_checked()
        assert not page.locator("#id_whole_city").is_checked()
        tab_to(page, "#send-alert")
        press(page, "Enter", navigates=True)

        # the confirm step has the focus: Enter sends
        assert page.evaluate("document.activeElement.id") == "confirm-send"
        assert "2 residents" in page.locator("#confirm").inner_text()
        press(page, "Enter", navigates=True)

        message = Message.objects.get()
        assert page.url.endswith(reverse("noticestaff:message", args=[message.pk]))
        assert page.locator("#board table").count() == 1
        assert message.kind == "emergency" and message.level == "all_clear"
        assert message.filters == {"districts": [world["d1"].code]}
        users = set(Delivery.objects.filter(message=message).values_list("user__email", flat=True))
        assert users == {"ueno-1@example.invalid", "ueno-2@example.invalid"}
    finally:
        page.context.close()
