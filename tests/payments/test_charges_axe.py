"""The charges pages of the staff console in a real browser: axe-core finds nothing on the
list, a charge, and the imports page (with an applied and a rejected file), at desktop
width and at 360 px, where nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.payments.models import ImportedFile
from cityhall.payments.services import charge_import
from tests.conftest import login_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    axe_context,
)
from tests.payments.test_charges_support import (
    World,
    build_world,
    csv_file,
    csv_row,
    juminzei_rows,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_on_every_charges_page(
    browser: Any, live_server: Any, client: Any, world: World, viewport: dict[str, int]
) -> None:
    applied = charge_import.import_charges(
        csv_file(juminzei_rows("100009", "000000000555", "阿山 恵")), filename="ok.csv"
    )
    rows = juminzei_rows("100010")
    rows[1] = csv_row(reference="100010", period=2, amount="abc", due="20260231")
    rejected = charge_import.import_charges(csv_file(rows), filename="bad.csv")
    assert rejected.status == ImportedFile.Status.REJECTED
    login_staff(client, world.central)
    context = axe_context(browser, live_server, client, viewport)
    page = context.new_page()
    base = live_server.url
    width = viewport["width"]
    try:
        for language in ("ja", "en"):
            page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
            page.goto(base + reverse("paystaff:charges"))
            assert_axe_clean(page, f"charges ({language})", width)
            page.goto(base + reverse("paystaff:charges") + "?q=%E4%BC%8A%E8%B3%80&fiscal_year=x")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, "charges, filter errors", width)
            page.goto(base + reverse("paystaff:charge", args=[world.juminzei.pk]))
            assert_axe_clean(page, f"charge ({language})", width)
            page.locator("form[action$='/link/'] button[type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, "charge, link errors", width)
            page.goto(base + reverse("paystaff:imports"))
            assert_axe_clean(page, f"imports ({language})", width)
            page.goto(base + reverse("paystaff:imports") + f"?file={applied.pk}")
            assert_axe_clean(page, "imports, applied", width)
            page.goto(base + reverse("paystaff:imports") + f"?file={rejected.pk}")
            assert page.locator("#error-summary li").count() == 2
            assert_axe_clean(page, "imports, rejected", width)
            page.locator("main form[enctype] button[type=submit]").click()  # no file: 422
            page.wait_for_load_state("load")
            assert page.locator("#error-summary").count() == 1
            assert_axe_clean(page, "imports, no file", width)
    finally:
        context.close()
