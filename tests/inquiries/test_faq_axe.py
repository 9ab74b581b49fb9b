"""The FAQ pages in a real browser: axe-core finds nothing on /faq/ (categories, a search,
a category), an entry (translated and Japanese-only, after feedback), and the staff list,
entry edit (also with errors), translation and import pages (also with row errors) — at
desktop width and at 360 px, where nothing scrolls sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from cityhall.inquiries.models import FaqEntry
from cityhall.inquiries.services import faq
from tests.conftest import login_staff, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    axe_context,
)
from tests.inquiries.faq_support import csv_text, default_csv, department

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _world() -> dict[str, Any]:
    department()
    faq.import_csv(default_csv().encode(), "faq.csv")
    faq.create_entry(
        key="tax-001",
        question="税の証明書はどこでもらえますか",
        answer="市役所1階の税務課でもらえます。" * 8,
        category="tax",
    )
    return {"gomi": FaqEntry.objects.get(key="gomi-001")}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_public_faq_pages(browser: Any, live_server: Any, viewport: dict[str, int]) -> None:
    _world()
    base = live_server.url
    width = viewport["width"]
    context = axe_context(browser, live_server, None, viewport)
    page = context.new_page()
    try:
        for language in ("ja", "en"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("inquiries:faq"))
            assert page.locator("form[role=search]").count() == 1
            assert_axe_clean(page, f"faq ({language})", width)
            page.goto(base + reverse("inquiries:faq") + "?q=%E7%B2%97%E5%A4%A7%E3%81%94%E3%81%BF")
            assert_axe_clean(page, f"faq search ({language})", width)
            page.goto(base + reverse("inquiries:faq") + "?category=garbage")
            assert page.locator("a[href='/faq/gomi-001/']").count() >= 1
            assert_axe_clean(page, f"faq category ({language})", width)
            for key in ("gomi-001", "tax-001"):
                page.goto(base + reverse("inquiries:faq_entry", args=[key]))
                assert_axe_clean(page, f"faq entry {key} ({language})", width)
            # Feedback by a plain form post (no JavaScript needed).
            page.locator("#feedback button[value=yes]").click()
            page.wait_for_load_state("load")
            assert page.locator("#feedback [role=status]").count() == 1
            assert_axe_clean(page, f"faq entry after feedback ({language})", width)
    finally:
        context.close()
    assert FaqEntry.objects.get(key="tax-001").helpful_count == 2


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_staff_faq_pages(
    browser: Any, live_server: Any, client: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    world = _world()
    clerk = make_staff("clerk@city.iga.example", "clerk")
    login_staff(client, clerk)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_text(",質問,回答,,,,,,,", "b-1,質問,,宇宙,,,,,,").encode("cp932"))
    base = live_server.url
    width = viewport["width"]
    context = axe_context(browser, live_server, client, viewport)
    page = context.new_page()
    try:
        for language in ("ja", "en"):
            context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("inqstaff:faq"))
            assert_axe_clean(page, f"staff faq list ({language})", width)
            page.goto(base + reverse("inqstaff:faq") + "?q=gomi")
            assert_axe_clean(page, f"staff faq search ({language})", width)
            page.goto(base + reverse("inqstaff:faq_new"))
            assert_axe_clean(page, f"staff faq new ({language})", width)
            page.locator("main form[novalidate] button[type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"staff faq new, errors ({language})", width)
            page.goto(base + reverse("inqstaff:faq_entry", args=[world["gomi"].pk]))
            assert_axe_clean(page, f"staff faq edit ({language})", width)
            page.goto(base + reverse("inqstaff:faq_text", args=[world["gomi"].pk, "en"]))
            assert_axe_clean(page, f"staff faq translation ({language})", width)
            page.goto(base + reverse("inqstaff:faq_import"))
            assert_axe_clean(page, f"staff faq import ({language})", width)
            page.set_input_files("input[type=file]", str(bad))
            page.locator("main form[enctype] button[type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert page.locator("#row-errors tbody tr").count() == 3
            assert_axe_clean(page, f"staff faq import, errors ({language})", width)
    finally:
        context.close()
