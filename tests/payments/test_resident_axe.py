"""My payments in a real browser: axe-core finds nothing on the resident's pages (desktop
and 360 px, several languages), nothing scrolls sideways on a phone, the eL-QR drawn on
screen is read back by zxing-cpp from a screenshot (also in dark and forced-colour
modes), and the pay and download actions are reached by keyboard alone."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cityhall.payments.services import notices
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
from tests.payments.test_resident_support import World, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: Any) -> World:
    return build_world()


@pytest.fixture
def open_page(browser: Any, live_server: Any, client: Client, world: World) -> Iterator[Any]:
    """New pages logged in as the resident: ``open_page(viewport, scale=1, **context)``."""
    client.force_login(world.resident)
    jar = session_cookie(client)
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = PHONE, *, scale: float = 1, **options: Any) -> Any:
        context = browser.new_context(
            viewport=viewport,
            device_scale_factor=scale,
            bypass_csp=True,  # only so that axe-core can be injected
            reduced_motion="reduce",
            locale="ja-JP",
            **options,
        )
        context.set_default_timeout(15_000)
        context.add_cookies(
            [{"name": k, "value": v, "url": live_server.url} for k, v in jar.items()]
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _urls(world: World) -> dict[str, str]:
    superseded = world.due_notice
    notices.reissue(
        superseded.installment,
        due_date=timezone.localdate() + dt.timedelta(days=30),
        actor=world.staff,
    )
    return {
        "mine": reverse("payments:mine"),
        "slip (overdue)": reverse("payments:notice", args=[world.overdue_notice.notice_number]),
        "slip (fee, pay online)": reverse("payments:notice", args=[world.fee_notice.notice_number]),
        "slip (replaced)": reverse("payments:notice", args=[superseded.notice_number]),
    }


def test_axe_finds_nothing_on_the_resident_pages(
    open_page: Any, live_server: Any, world: World
) -> None:
    urls = _urls(world)
    base = live_server.url
    problems: list[str] = []
    for viewport in (PHONE, DESKTOP):
        page = open_page(viewport)
        for language in ("ja", "en", "pt-br", "vi"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            for what, url in urls.items():
                response = page.goto(base + url)
                assert response is not None and response.status == 200, (what, language)
                lang = page.locator("html").get_attribute("lang")
                assert lang == HTML_LANG[language], (what, language, lang)
                violations = run_axe(page)
                if violations:
                    problems.append(
                        f"{what} ({language}, {viewport['width']} px):\n"
                        + format_violations(violations)
                    )
                if viewport is PHONE:
                    assert_no_horizontal_scroll(page, PHONE["width"])
    assert not problems, "\n".join(problems)


def _read_qr(page: Any) -> list[Any]:
    import zxingcpp
    from PIL import Image

    png = page.locator("#elqr svg").screenshot()
    return list(zxingcpp.read_barcodes(Image.open(io.BytesIO(png))))


@pytest.mark.parametrize(
    "media",
    [{}, {"color_scheme": "dark"}, {"forced_colors": "active", "color_scheme": "dark"}],
    ids=["light", "dark", "forced-colours"],
)
def test_the_qr_on_screen_reads_back_as_the_exact_payload(
    open_page: Any, live_server: Any, world: World, media: dict[str, str]
) -> None:
    notice = world.due_notice
    page = open_page(PHONE, scale=2)
    if media:
        page.emulate_media(**media)
    page.goto(live_server.url + reverse("payments:notice", args=[notice.notice_number]))
    box = page.locator("#elqr svg").bounding_box()
    assert box is not None and box["width"] >= 250 and box["height"] >= 250, box
    results = _read_qr(page)
    assert len(results) == 1, results
    assert results[0].text == notice.elqr_payload and len(results[0].text) == 255
    assert results[0].symbology_identifier == "]Q1" and results[0].ec_level == "M"


def test_pay_and_download_by_keyboard_alone(open_page: Any, live_server: Any, world: World) -> None:
    notice = world.fee_notice
    page = open_page(PHONE)
    page.goto(live_server.url + reverse("payments:mine"))
    mine_link = f"a[href='{reverse('payments:notice', args=[notice.notice_number])}']"
    tab_to(page, mine_link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert page.url.endswith(reverse("payments:notice", args=[notice.notice_number]))
    tab_to(page, "#pay-online")
    tab_to(page, "#slip-pdf")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == f"payment-slip-{notice.notice_number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"
