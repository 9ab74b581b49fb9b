"""Online payment pages in a real browser (sandbox provider): axe-core finds nothing on the
fee page, the sandbox page, every state of the return page, the "could not start" page and
the staff list and detail (with refund errors), at desktop width and at 360 px, where
nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.payments.models import OnlinePayment
from tests.conftest import login_staff, make_resident, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    run_axe,
    session_cookie,
)
from tests.payments.test_online_pages import _fee_application

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [("desktop", DESKTOP), ("phone", PHONE)]


@pytest.fixture
def sandbox(settings: Any) -> None:
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.PAYMENT_PROVIDER_WEBHOOK_SECRET = ""


def _context(browser: Any, live_server: Any, client: Client, viewport: dict[str, int]) -> Any:
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": k, "value": v, "url": live_server.url} for k, v in session_cookie(client).items()]
    )
    return context


def _clean(page: Any, what: str, width: int) -> None:
    violations = run_axe(page)
    assert not violations, f"{what}: {page.url}\n{format_violations(violations)}"
    if width == PHONE["width"]:
        assert_no_horizontal_scroll(page, width)


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()
    page.wait_for_load_state("load")


def test_axe_on_the_resident_payment_pages(
    browser: Any, live_server: Any, client: Client, sandbox: None, settings: Any
) -> None:
    resident = make_resident("fee@example.jp")
    client.force_login(resident)
    base = live_server.url
    for name, viewport in VIEWPORTS:
        app = _fee_application(resident) if name == "desktop" else _second_application(resident)
        context = _context(browser, live_server, client, viewport)
        page = context.new_page()
        width = viewport["width"]
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("payments:fee", args=[app.reference]))
            _clean(page, f"fee page ({name}, {language})", width)

        # to the sandbox's page, then back to "processing" before choosing
        _submit(page, "main form button[type=submit]")
        assert "/payments/sandbox/" in page.url
        _clean(page, f"sandbox page ({name})", width)
        sandbox_url = page.url
        op = OnlinePayment.objects.filter(payer=resident).latest("created_at")
        page.goto(base + reverse("payments:return", args=[op.pk]))
        refresh = reverse("payments:return", args=[op.pk])
        assert page.locator(f"main a[href='{refresh}']").count() == 1
        _clean(page, f"return: processing ({name})", width)

        for outcome in ("cancelled", "failed"):
            page.goto(sandbox_url)
            _submit(page, f"button[value={outcome}]")
            assert "/return/" in page.url
            _clean(page, f"return: {outcome} ({name})", width)
            if outcome == "cancelled":
                # try again: a new attempt on a new sandbox page
                _submit(page, "main form button[type=submit]")
                sandbox_url = page.url
            else:
                # try again, but the amount is now over the online limit
                settings.PAYMENT_ONLINE_LIMIT_YEN = 100
                _submit(page, "main form button[type=submit]")
                assert page.locator(".notification--error").count() == 1
                _clean(page, f"could not start ({name})", width)
                settings.PAYMENT_ONLINE_LIMIT_YEN = 30000

        page.goto(base + reverse("payments:fee", args=[app.reference]))
        _submit(page, "main form button[type=submit]")
        _submit(page, "button[value=success]")
        assert page.locator(".notification--success").count() == 1
        _clean(page, f"return: paid ({name})", width)
        page.goto(base + reverse("payments:fee", args=[app.reference]))
        _clean(page, f"fee page, paid ({name})", width)
        context.close()


def _second_application(resident: Any) -> Any:
    from cityhall.procedures.models import Application, Procedure
    from tests.procedures.test_board_support import make_application

    procedure = Procedure.objects.get(slug="juminhyo")
    app = make_application(procedure, resident)
    Application.objects.filter(pk=app.pk).update(fee_yen=300, fee_status="due")
    app.refresh_from_db()
    return app


def test_axe_on_the_staff_online_pages(
    browser: Any, live_server: Any, client: Client, sandbox: None
) -> None:
    from tests.payments.test_online_support import build_world, pay_online

    world = build_world()
    paid = pay_online(client, world)
    manager = make_staff("kacho@city.iga.example", "manager", "shuno")
    login_staff(client, manager)
    base = live_server.url
    for name, viewport in VIEWPORTS:
        context = _context(browser, live_server, client, viewport)
        page = context.new_page()
        width = viewport["width"]
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("paystaff:online"))
            _clean(page, f"staff list ({name}, {language})", width)
            page.goto(
                base + reverse("paystaff:online") + "?date_from=2026-05-02&date_to=2026-05-01"
            )
            assert page.locator("#error-summary").count() == 1
            _clean(page, f"staff list, errors ({name})", width)
            page.goto(base + reverse("paystaff:online_payment", args=[paid.pk]))
            _clean(page, f"staff detail ({name}, {language})", width)
            page.locator("#id_reason").fill("")
            _submit(page, "form:has(#id_reason) button[type=submit]")
            assert page.locator("#error-summary").count() == 1
            _clean(page, f"staff detail, refund errors ({name})", width)
        context.close()
