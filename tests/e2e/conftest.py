"""Browser fixtures: Debian Chromium driven by Playwright against pytest-django's live server.

The live server runs in a thread of this process, so the tests share its settings,
its database (``transactional_db``) and its locmem cache. Chromium is launched once
per test module; each test gets fresh contexts (cookies, viewport, reduced motion),
except the axe runs, which share one phone-sized page and wipe its cookies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import AXE_RESULTS, PHONE


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything under tests/e2e is a browser journey, even a test that forgot its mark.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Cells come back through the report, so the table also works with pytest-xdist.
    if report.when == "call" or (report.when == "setup" and report.skipped):
        for name, value in report.user_properties:
            if name == "axe_cell":
                AXE_RESULTS.record(*value)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = AXE_RESULTS.table()
    if not lines:
        return
    terminalreporter.section("axe-core: violations per page and language")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _in_process_work(settings: Any) -> Iterator[None]:
    """The live server thread must send e-mails itself and share this process's cache.

    Background tasks run inside the request (so the verification e-mail leaves while
    the browser waits) and the cache is the process-local one the tests clear. These
    are set here as settings, not only as environment defaults, because the settings
    module may be imported before any conftest runs.
    """
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Hundreds of accounts are made and logged in; PBKDF2's million rounds would be most
    # of the run. The hashing itself is covered by the unit tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    # locmem keeps its data in a module-level dict across instances: start each test
    # with no rate-limit counters left by the one before.
    cache.clear()
    yield
    cache.clear()


def _context_options(live_server: Any) -> dict[str, Any]:
    return {
        "bypass_csp": True,
        "reduced_motion": "reduce",
        "locale": "ja-JP",
        "base_url": live_server.url,
    }


def _add_cookies(context: Any, live_server: Any, jar: dict[str, str]) -> None:
    if jar:
        context.add_cookies(
            [{"name": k, "value": v, "url": live_server.url} for k, v in jar.items()]
        )


@pytest.fixture(scope="module")
def _shared_phone(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, **_context_options(live_server))
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.emulate_media(reduced_motion="reduce")
    yield page
    context.close()


@pytest.fixture
def reused_phone(_shared_phone: Any, live_server: Any) -> Callable[..., Any]:
    """The module's one 360×740 page, cookies wiped, for the many axe runs.

    Reusing the context keeps axe-core's code warm in one renderer; a fresh context per
    run costs about a second each.
    """

    def open_with(*, language: str | None = None, cookies: dict[str, str] | None = None) -> Any:
        page = _shared_phone
        page.context.clear_cookies()
        jar = dict(cookies or {})
        if language:
            jar["cityhall_lang"] = language
        _add_cookies(page.context, live_server, jar)
        page.goto("about:blank")
        return page

    return open_with


@pytest.fixture
def make_context(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """New browser contexts: phone-sized by default, reduced motion, CSP bypassed for axe.

    ``bypass_csp`` is only there so axe-core can be injected into pages that send a
    strict Content-Security-Policy; the site's own pages need no inline script.
    """
    contexts: list[Any] = []

    def make(
        *,
        viewport: dict[str, int] | None = None,
        language: str | None = None,
        cookies: dict[str, str] | None = None,
        scale: float = 1,
    ) -> Any:
        context = browser.new_context(
            viewport=viewport or PHONE, device_scale_factor=scale, **_context_options(live_server)
        )
        context.set_default_timeout(15_000)
        jar = dict(cookies or {})
        if language:
            jar["cityhall_lang"] = language
        _add_cookies(context, live_server, jar)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(make_context: Callable[..., Any]) -> Any:
    """A page in a 360×740 context with prefers-reduced-motion: reduce."""
    page = make_context().new_page()
    page.emulate_media(reduced_motion="reduce")
    return page


@pytest.fixture
def city(transactional_db: Any) -> dict[str, Any]:
    """The departments the life-event pages point to, districts and the city hall."""
    from cityhall.core.models import Area, District, Facility
    from cityhall.people.models import Department
    from cityhall.portal.frontdoor import LIFE_EVENTS

    names = {
        "shimin-seikatsu": ("市民生活課", "Residents' Affairs Division"),
        "zeimu": ("税務課", "Taxation Division"),
        "jougesuido": ("上下水道課", "Water and Sewerage Division"),
        "kosodate-shien": ("こども家庭課", "Child and Family Division"),
        "kenko-suishin": ("健康推進課", "Health Promotion Division"),
        "hoiku-yochien": ("保育幼稚園課", "Nursery and Kindergarten Division"),
        "gakko-kyoiku": ("学校教育課", "School Education Division"),
        "kaigo-korei": ("介護高齢福祉課", "Long-term Care and Elderly Welfare Division"),
        "hoken-nenkin": ("保険年金課", "Insurance and Pension Division"),
        "tabunka-kyosei": ("多文化共生課", "Multicultural Coexistence Division"),
        "bosai": ("総合危機管理課", "Crisis Management Division"),
    }
    codes = {code for event in LIFE_EVENTS for code in event.departments}
    for code in sorted(codes):
        name, english = names.get(code, (code, code))
        Department.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "names": {"en": english},
                "phone": "0595-22-9999",
                "location": "伊賀市役所 1階",
                "duties": "窓口での手続きと相談",
            },
        )
    ueno, _ = Area.objects.get_or_create(
        code="ueno", defaults={"name": "上野", "kana": "うえの", "names": {"en": "Ueno"}}
    )
    district, _ = District.objects.get_or_create(
        code="ueno-tobu",
        defaults={"name": "上野東部", "area": ueno, "names": {"en": "Ueno East"}},
    )
    Facility.objects.get_or_create(
        code="city-hall",
        defaults={
            "name": "伊賀市役所",
            "names": {"en": "Iga City Hall"},
            "kind": Facility.Kind.CITY_HALL,
            "postal_code": "518-8501",
            "address": "三重県伊賀市四十九町3184",
            "phone": "0595-22-2500",
            "opening_hours": "8:30–17:15",
        },
    )
    return {"district": district}
