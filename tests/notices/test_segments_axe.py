"""The segment pages in a real browser: axe-core finds nothing on the list, the form (with
its live count filled in by segment-preview.js), and the form with its error summary, at
desktop width and at 360 px, where nothing scrolls sideways; the count follows a facet
change through the aria-live region."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.notices.services import segments
from tests.conftest import login_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    axe_context,
)
from tests.notices.segments_support import YEAR, build_city, consent, koho_clerk, person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_the_segment_pages(
    browser: Any, live_server: Any, client: Any, viewport: dict[str, int]
) -> None:
    city = build_city()
    for n in range(4):
        person(
            f"older{n}@example.jp",
            district=city.ueno_tobu,
            birth_year=YEAR - 70,
            display_name="山田 花子",
            channels=["email", "inbox"],
        )
    young = person("young@example.jp", district=city.aoyama_hokubu, birth_year=YEAR - 30)
    consent(young, "notify", False)
    clerk = koho_clerk()
    segments.save_segment("Ueno East", "festival", {"districts": ["ueno-tobu"]}, actor=clerk)
    login_staff(client, clerk)
    context = axe_context(browser, live_server, client, viewport)
    page = context.new_page()
    base = live_server.url
    width = viewport["width"]
    try:
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("noticestaff:segments"))
            assert_axe_clean(page, f"segments ({language})", width)

            page.goto(base + reverse("noticestaff:segment_new"))
            count = page.locator("#segment-count")
            assert count.get_attribute("aria-live") == "polite"
            # the script fills in the count for the whole city on its own
            page.locator("#segment-sample table").wait_for()
            assert "4" in count.inner_text()
            assert_axe_clean(page, f"new segment with its live count ({language})", width)

            # a facet changes: the live region follows, without a submit
            page.locator("#segment-form input[value='aoyama-hokubu']").check()
            page.wait_for_function(
                "() => !document.querySelector('#segment-sample table')"
                " && document.querySelector('#segment-preview').getAttribute('aria-busy')"
                " === 'false'"
            )
            assert "0" in count.inner_text()
            assert_axe_clean(page, f"new segment, nobody matches ({language})", width)

            page.goto(base + reverse("noticestaff:segment_new"))
            page.fill("#id_age_min", "80")
            page.fill("#id_age_max", "70")
            page.locator("button[name=action][value=count]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, f"new segment, errors ({language})", width)

            page.goto(base + reverse("noticestaff:segments"))
            page.get_by_role("link", name="Ueno East").click()
            page.wait_for_load_state("load")
            assert page.locator("#id_name").input_value() == "Ueno East"
            assert_axe_clean(page, f"saved segment ({language})", width)
    finally:
        context.close()
    assert AuditEvent.objects.filter(action="notices.segment_sample").exists()
