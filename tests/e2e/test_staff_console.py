"""The staff console in headless Chromium at 360 px: real login with TOTP, axe-core clean,
no page wider than the phone (tables scroll inside their wrapper). The browser is the
shared one from tests/e2e/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.helpers import PHONE, format_violations, run_axe

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    context = browser.new_context(
        viewport=PHONE, bypass_csp=True, reduced_motion="reduce", base_url=live_server.url
    )
    context.add_cookies([{"name": "cityhall_lang", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _check_page(page: Any) -> None:
    violations = run_axe(page)
    assert not violations, f"{page.url}\n{format_violations(violations)}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at 360px"
    assert page.locator("h1").count() == 1


def test_an_administrator_logs_in_with_totp_and_every_section_works_on_a_phone(
    phone: Any, transactional_db: Any
) -> None:
    from cityhall.core import audit
    from tests.conftest import PASSWORD, make_resident, make_staff, totp_now

    admin = make_staff("admin@city.iga.example", "admin", "joho-seisaku", display_name="管理 太郎")
    resident = make_resident("hanako@example.jp", phone="0595-22-0000", address="伊賀市上野丸之内1")
    for i in range(3):
        audit.record("test.event", details={"n": i, "long": "x" * 120})

    phone.goto("/staff/")
    assert "/staff/login/" in phone.url
    _check_page(phone)
    phone.get_by_label("E-mail address").fill(admin.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Continue").click()
    phone.wait_for_url("**/staff/mfa/")
    _check_page(phone)
    phone.get_by_label("6-digit code").fill(totp_now(admin))
    phone.get_by_role("button", name="Confirm").click()
    phone.wait_for_url("**/staff/")
    assert "管理 太郎" in phone.content()
    _check_page(phone)

    for path in (
        "/staff/residents/?q=hanako",
        f"/staff/residents/{resident.pk}/",
        f"/staff/residents/{resident.pk}/edit/",
        "/staff/departments/",
        "/staff/departments/new/",
        "/staff/members/",
        f"/staff/members/{admin.pk}/",
        "/staff/members/new/",
        "/staff/audit/",
    ):
        phone.goto(path)
        _check_page(phone)
    assert "0595-22-0000" not in phone.content()

    # A form with errors: the summary is announced and links to the field.
    phone.goto("/staff/departments/new/")
    phone.get_by_role("button", name="Save").click()
    assert phone.locator(".error-summary").is_visible()
    _check_page(phone)

    phone.goto("/staff/audit/")
    phone.get_by_role("button", name="Verify the chain").click()
    assert "Intact" in phone.content()
    _check_page(phone)


def test_enrolment_page_on_a_phone(phone: Any, transactional_db: Any) -> None:
    from cityhall.people.models import User
    from tests.conftest import PASSWORD

    user = User.objects.create_user(email="new@city.iga.example", password=PASSWORD, is_staff=True)
    phone.goto("/staff/login/")
    phone.get_by_label("E-mail address").fill(user.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Continue").click()
    phone.wait_for_url("**/staff/mfa/")
    assert phone.locator("img[alt*='QR code']").is_visible()
    _check_page(phone)
