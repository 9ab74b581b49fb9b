"""The case board in a real browser: axe-core finds nothing on its pages (at 360 px, also
with errors shown), nothing scrolls sideways, and a bulk action works by keyboard alone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from cityhall.procedures.models import Application, Attachment, Status
from tests.conftest import login_staff
from tests.e2e.helpers import (
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    run_axe,
    session_cookie,
    tab_to,
)
from tests.procedures.test_board_support import World, build_world, make_application

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board_world(settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = str(tmp_path)
    world = build_world()
    import datetime as dt

    from django.utils import timezone

    make_application(
        world.dog, world.resident, due_date=timezone.localdate() - dt.timedelta(days=3)
    )
    make_application(world.dog, world.resident, status=Status.APPROVED)
    app = world.apps["a1"]
    content = b"%PDF-1.4\n%%EOF\n"
    attachment = Attachment(
        application=app,
        field_key="documents",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="住民票.pdf",
    )
    attachment.file.save("upload.pdf", ContentFile(content), save=True)
    return world


@pytest.fixture
def page(browser: Any, live_server: Any, client: Any, board_world: World) -> Iterator[Any]:
    login_staff(client, board_world.clerk_a)
    context = browser.new_context(
        viewport=PHONE, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": k, "value": v, "url": live_server.url} for k, v in session_cookie(client).items()]
    )
    tab = context.new_page()
    yield tab
    context.close()


def _clean(page: Any, what: str) -> None:
    violations = run_axe(page)
    assert not violations, f"{what}: {page.url}\n{format_violations(violations)}"
    assert_no_horizontal_scroll(page, PHONE["width"])


def test_axe_on_every_board_page(page: Any, live_server: Any, board_world: World) -> None:
    app: Application = board_world.apps["a1"]
    base = live_server.url
    for language in ("ja", "en"):
        page.context.add_cookies([{"name": "cityhall_lang", "value": language, "url": base}])
        page.goto(base + reverse("procstaff:board"))
        _clean(page, f"board ({language})")
        page.goto(base + reverse("procstaff:board") + "?overdue=on&status=approved")
        _clean(page, "board, filtered")
        page.goto(base + reverse("procstaff:board") + "?submitted_from=2026-05-01&submitted_to=1")
        assert page.locator("#error-summary").count() == 1
        _clean(page, "board, filter errors")
        page.goto(base + reverse("procstaff:case", args=[app.pk]))
        _clean(page, f"case ({language})")
        page.locator("#id_note-text").fill("")
        page.locator("form[action$='/note/'] button[type=submit]").click()
        page.wait_for_load_state("load")
        assert page.locator("#error-summary").count() == 1
        _clean(page, "case, errors")
        page.goto(base + reverse("procstaff:board_export") + f"?procedure={board_world.dog.pk}")
        _clean(page, "export")
        page.locator("main form button[type=submit]").click()  # no column ticked: 422
        page.wait_for_load_state("load")
        _clean(page, "export, errors")


def test_a_bulk_assignment_by_keyboard_alone(
    page: Any, live_server: Any, board_world: World
) -> None:
    page.goto(live_server.url + reverse("procstaff:board"))
    first = board_world.apps["a1"]
    tab_to(page, f"#select-{first.pk}")
    page.keyboard.press("Space")
    tab_to(page, "#id_action")
    page.keyboard.press("ArrowDown")  # "Assign to me"
    assert page.locator("#id_action").input_value() == "assign_me"
    tab_to(page, "form[action$='/bulk/'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    first.refresh_from_db()
    assert first.assignee_id == board_world.clerk_a.pk
    assert page.locator(".notification--success").count() == 1
