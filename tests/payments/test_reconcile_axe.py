"""The reconciliation pages in a real browser: axe-core finds nothing (desktop and 360 px,
also with errors shown) and nothing scrolls sideways on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.payments.models import ImportedFile, ReconciliationLine
from cityhall.payments.services import reconcile
from tests.conftest import login_staff, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    run_axe,
    session_cookie,
)
from tests.payments.test_reconcile_support import agent_file, agent_row, slip, unknown_barcode

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(client: Any) -> dict[str, Any]:
    shuno = make_staff("shuno@city.iga.example", "clerk", "shuno")
    notice = slip()
    data = agent_file(
        agent_row("01", notice.cvs_barcode, 12_345),
        agent_row("01", unknown_barcode(), 500),
        agent_row("01", notice.cvs_barcode, 12_000),
    )
    imported = reconcile.import_collection_file("agent", data, filename="agent.csv", actor=shuno)
    login_staff(client, shuno)
    return {
        "client": client,
        "file": imported,
        "line": ReconciliationLine.objects.filter(needs_review=True).first(),
    }


def _page(browser: Any, live_server: Any, world: dict[str, Any], viewport: dict[str, int]) -> Any:
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {"name": k, "value": v, "url": live_server.url}
            for k, v in session_cookie(world["client"]).items()
        ]
    )
    return context.new_page()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_every_reconcile_page(
    browser: Any, live_server: Any, world: dict[str, Any], viewport: dict[str, int]
) -> None:
    page = _page(browser, live_server, world, viewport)
    imported: ImportedFile = world["file"]
    base = live_server.url
    urls = [
        reverse("paystaff:reconcile"),
        reverse("paystaff:reconcile_file", args=[imported.pk]),
        reverse("paystaff:reconcile_file", args=[imported.pk]) + "?outcome=unknown",
        reverse("paystaff:exceptions"),
        reverse("paystaff:exception", args=[world["line"].pk]),
        reverse("paystaff:revenue"),
        reverse("paystaff:revenue") + "?date_from=2026-06-02&date_to=2026-06-01&encoding=utf-8",
        reverse("paystaff:reminders"),
    ]
    for url in urls:
        page.goto(base + url)
        violations = run_axe(page)
        assert not violations, f"{url}\n{format_violations(violations)}"
        if viewport is PHONE:
            assert_no_horizontal_scroll(page, PHONE["width"])
    # The decision form with its errors shown.
    page.goto(base + reverse("paystaff:exception", args=[world["line"].pk]))
    page.locator("form[action*='/exceptions/'] button[type=submit]").click()
    assert page.locator("#error-summary").count() == 1
    assert not run_axe(page)
    # The upload form with its errors shown.
    page.goto(base + reverse("paystaff:reconcile"))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    assert page.locator("#error-summary").count() == 1
    assert not run_axe(page)
    page.context.close()
