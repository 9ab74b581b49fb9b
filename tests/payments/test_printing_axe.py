"""Slip printing in a real browser: axe-core finds nothing on its pages at desktop size and
at 360 px (also with errors shown), nothing scrolls sideways, and the progress of a run
is polled and shown while it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from cityhall.payments.models import PrintRun
from cityhall.payments.services import printing
from tests.conftest import login_staff, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    session_cookie,
)
from tests.payments.factories import make_charge, make_kind

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PARAMS = {"kind": "kojin-juminzei", "fiscal_year": 2026}


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PAYMENT_PRINT_PART_SIZE = 2
    shuno = make_staff("shuno@city.iga.example", "clerk", "shuno")
    kind = make_kind()
    for i in range(5):
        make_charge(kind=kind, amounts=(1_000 + i,), payer_key=f"{i:012d}")
    done = printing.create_run(title="第1期 一括印刷", params=PARAMS, actor=shuno)
    done.refresh_from_db()  # the task ran when the transaction committed (immediate backend)
    assert done.status == PrintRun.Status.DONE
    failed = PrintRun.objects.create(
        title="第2期 一括印刷",
        params=PARAMS,
        status=PrintRun.Status.FAILED,
        total=12_000,
        printed=4_000,
        part_size=1_000,
        error="RuntimeError: paper jam in the printer driver, part 5 of 12",
        created_by=shuno,
    )
    queued = PrintRun.objects.create(
        title="第3期 一括印刷", params=PARAMS, total=83_000, printed=0, created_by=shuno
    )
    return {"shuno": shuno, "done": done, "failed": failed, "queued": queued}


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
def test_axe_on_every_print_page(
    browser: Any, live_server: Any, client: Any, world: dict[str, Any], viewport: dict[str, int]
) -> None:
    page = _page(browser, live_server, client, world["shuno"], viewport)
    base = live_server.url
    width = viewport["width"]
    try:
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("paystaff:print"))
            assert_axe_clean(page, f"runs ({language})", width)

            page.locator("#id_fiscal_year").fill("")
            page.locator("button[value=count]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"runs, errors ({language})", width)

            page.locator("#id_kind").select_option("kojin-juminzei")
            page.locator("#id_fiscal_year").fill("2026")
            page.locator("#id_only_unprinted").uncheck()
            page.locator("button[value=count]").click()
            page.wait_for_load_state("load")
            assert page.locator("button[value=start]").count() == 1
            assert_axe_clean(page, f"runs, counted ({language})", width)

            for key in ("done", "failed", "queued"):
                page.goto(base + reverse("paystaff:print_run", args=[world[key].pk]))
                assert page.locator("progress").count() == 1
                assert_axe_clean(page, f"run {key} ({language})", width)
    finally:
        page.context.close()


def test_progress_is_polled_and_shown(
    browser: Any, live_server: Any, client: Any, world: dict[str, Any]
) -> None:
    page = _page(browser, live_server, client, world["shuno"], DESKTOP)
    queued: PrintRun = world["queued"]
    try:
        page.goto(live_server.url + reverse("paystaff:print_run", args=[queued.pk]))
        assert page.locator("progress").get_attribute("value") == "0"
        assert page.locator(".print-refresh").is_hidden()  # the script polls instead
        PrintRun.objects.filter(pk=queued.pk).update(status=PrintRun.Status.RUNNING, printed=41_500)
        page.wait_for_function(
            "document.querySelector('progress') && "
            "document.querySelector('progress').getAttribute('value') === '41500'"
        )
        assert "50%" in page.locator("#run-progress").inner_text()
        assert_axe_clean(page, "run, polled", DESKTOP["width"])
    finally:
        page.context.close()
