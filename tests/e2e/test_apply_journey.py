"""A full online application on a 360 px phone, by keyboard alone.

A resident logs in, opens a procedure from the catalogue, starts, meets an error,
fills in every step (a name with furigana, a 和暦 date, a repeatable group with
"Add another", a condition, a photo upload, a select, a consent and a signature),
saves and finishes later, gets the resume link by e-mail, comes back, checks,
sends and sees the receipt number. Only Tab, Shift+Tab, typing, Space, Enter and
the arrow keys are used. axe-core runs on every page of the journey and must find
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import PASSWORD, make_resident
from tests.e2e.helpers import (
    PHONE,
    assert_focus_visible,
    assert_no_horizontal_scroll,
    first_tab_is_skip_link,
    format_violations,
    press,
    run_axe,
    tab_to,
)
from tests.e2e.test_journeys import keyboard_login, wait_for_mail
from tests.procedures.test_apply_support import forget_parsed_forms, make_procedure, png_bytes

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _fresh_forms() -> Iterator[None]:
    forget_parsed_forms()
    yield
    forget_parsed_forms()


RESUME_LINK = re.compile(r"https?://\S+?(/resume/[^\s/]+/)")


def check_page(page: Any, checked: list[str], label: str) -> None:
    """axe-core finds nothing and the page does not scroll sideways at 360 px."""
    violations = run_axe(page)
    assert not violations, f"{label} {page.url}\n" + format_violations(violations)
    assert_no_horizontal_scroll(page, PHONE["width"])
    checked.append(label)


def path(page: Any) -> str:
    return urlsplit(page.url).path


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def choose_with_arrows(page: Any, selector: str, value: str) -> None:
    """Pick an option of a closed <select> with the arrow keys."""
    tab_to(page, selector)
    for _ in range(20):
        if page.eval_on_selector(selector, "el => el.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"could not reach {value!r} in {selector}")


def test_apply_online_by_keyboard(
    phone: Any,
    live_server: Any,
    smtp_server: Any,
    settings: Any,
    city: Any,
    tmp_path: Path,
) -> None:
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    email = "apply.keyboard@example.jp"
    make_resident(email)
    procedure = make_procedure()
    photo = tmp_path / "insurance-card.png"
    photo.write_bytes(png_bytes((64, 40)))
    page = phone
    checked: list[str] = []

    keyboard_login(page, email, PASSWORD)

    # The catalogue page of the procedure links to the online application.
    page.goto(reverse("procedures:detail", args=[procedure.slug]))
    first_tab_is_skip_link(page)
    start_url = reverse("procedures:apply_start", args=[procedure.slug])
    tab_to(page, f"main a[href='{start_url}']")
    press(page, "Enter", navigates=True)
    assert path(page) == start_url
    check_page(page, checked, "start")

    first_tab_is_skip_link(page)
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert "/step/applicant/" in path(page)
    check_page(page, checked, "step 1")

    # Continue with the name missing: the error summary takes the focus-able links.
    tab_to(page, "main .actions button[name=_continue]")
    press(page, "Enter", navigates=True)
    assert page.locator(".error-summary").count() == 1
    check_page(page, checked, "step 1 (errors)")
    first_tab_is_skip_link(page)
    tab_to(page, ".error-summary a[href='#id_name-family']")
    press(page, "Enter")
    assert_focus_visible(page)
    assert page.evaluate("document.activeElement.id") == "id_name-family"

    page.keyboard.type("伊賀")
    type_into(page, "#id_name-given", "花子")
    type_into(page, "#id_name-family_kana", "いが")
    type_into(page, "#id_name-given_kana", "はなこ")
    choose_with_arrows(page, "#id_birthdate-era", "S")
    type_into(page, "#id_birthdate-year", "60")
    type_into(page, "#id_birthdate-month", "4")
    type_into(page, "#id_birthdate-day", "1")
    assert page.input_value("#id_email") == email  # prefilled from the account
    type_into(page, "#id_phone", "0595-22-2500")
    tab_to(page, "main .actions button[name=_continue]")
    press(page, "Enter", navigates=True)
    assert "/step/family/" in path(page), page.locator("main").inner_text()[:500]
    check_page(page, checked, "step 2")

    # Without an answer yet the group is hidden by the script; "Yes" shows it.
    assert not page.locator("[data-field=children]").is_visible()
    tab_to(page, "#id_has_children_0")
    press(page, "Space")
    assert page.is_checked("#id_has_children_0")
    assert page.locator("[data-field=children]").is_visible()
    type_into(page, "#id_children-0-name-family", "伊賀")
    type_into(page, "#id_children-0-name-given", "一郎")
    type_into(page, "#id_children-0-name-family_kana", "イガ")
    type_into(page, "#id_children-0-name-given_kana", "イチロウ")
    choose_with_arrows(page, "#id_children-0-birthdate-era", "R")
    type_into(page, "#id_children-0-birthdate-year", "2")
    type_into(page, "#id_children-0-birthdate-month", "5")
    type_into(page, "#id_children-0-birthdate-day", "10")
    tab_to(page, "#id_children-0-relation_0")
    press(page, "Space")
    # "Add another" re-renders the step with a second child, focus in its first box.
    tab_to(page, "button[name=_add]")
    press(page, "Enter", navigates=True)
    assert page.evaluate("document.activeElement.id") == "id_children-1-name-family"
    assert page.input_value("#id_children-0-name-given") == "一郎"
    check_page(page, checked, "step 2 (two children)")
    page.keyboard.type("伊賀")
    type_into(page, "#id_children-1-name-given", "次郎")
    type_into(page, "#id_children-1-name-family_kana", "イガ")
    type_into(page, "#id_children-1-name-given_kana", "ジロウ")
    choose_with_arrows(page, "#id_children-1-birthdate-era", "R")
    type_into(page, "#id_children-1-birthdate-year", "4")
    type_into(page, "#id_children-1-birthdate-month", "1")
    type_into(page, "#id_children-1-birthdate-day", "20")
    # The "other" relation shows one more question inside that child's block.
    assert not page.locator("[data-field='children-1-relation_other']").is_visible()
    tab_to(page, "#id_children-1-relation_0")
    press(page, "ArrowDown")  # radios move with the arrow keys
    assert page.is_checked("#id_children-1-relation_1")
    assert page.locator("[data-field='children-1-relation_other']").is_visible()
    type_into(page, "#id_children-1-relation_other", "孫")
    # Enter in a text box sends the step ("Continue"), not "Add another" or "Remove".
    press(page, "Enter", navigates=True)
    assert "/step/documents/" in path(page), page.locator("main").inner_text()[:800]
    check_page(page, checked, "step 3")

    # The photo: the file chooser opens from the keyboard.
    tab_to(page, "#id_photo-upload")
    chooser = None
    # Headless Chromium now and then drops the first activation of a file input:
    # press Enter, and Space if no chooser opened.
    for key in ("Enter", " ", "Enter"):
        try:
            with page.expect_file_chooser(timeout=5000) as opened:
                press(page, key)
            chooser = opened.value
            break
        except PlaywrightTimeoutError:
            continue
    assert chooser is not None, "the file chooser did not open from the keyboard"
    chooser.set_files(str(photo))
    choose_with_arrows(page, "#id_bank", "iga")
    # Save and finish later.
    tab_to(page, "main .actions button[name=_save]")
    press(page, "Enter", navigates=True)
    assert path(page).endswith("/saved/"), page.url
    check_page(page, checked, "saved")
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert page.locator("main [role=status]").is_visible()
    check_page(page, checked, "saved (link sent)")

    # Later: the link from the e-mail leads back to the first unfinished step.
    message = wait_for_mail(smtp_server, email)
    body = message.get_body(("plain",)).get_content()
    link = RESUME_LINK.search(body)
    assert link, body
    page.goto(link.group(1))
    assert "/step/confirm/" in path(page), page.url
    check_page(page, checked, "step 4")
    tab_to(page, "#id_agree")
    press(page, "Space")
    assert page.is_checked("#id_agree")
    type_into(page, "#id_signature-typed", "伊賀 花子")
    # Back one step with Shift+Tab … the uploaded photo is listed there.
    tab_to(page, "main a.back-link", backwards=True)
    press(page, "Enter", navigates=True)
    assert "/step/documents/" in path(page)
    assert page.locator(".file-list a").all_inner_texts() == ["insurance-card.png"]
    check_page(page, checked, "step 3 (photo given)")
    tab_to(page, "main .actions button[name=_continue]")
    press(page, "Enter", navigates=True)
    assert "/step/confirm/" in path(page)
    tab_to(page, "#id_agree")
    if not page.is_checked("#id_agree"):
        press(page, "Space")
    type_into(page, "#id_signature-typed", "伊賀 花子")
    tab_to(page, "main .actions button[name=_continue]")
    press(page, "Enter", navigates=True)
    assert path(page) == reverse("procedures:apply_check", args=[_app_id(page)])
    main = page.locator("main").inner_text()
    assert "伊賀 花子" in main and "昭和60年4月1日" in main and "孫" in main
    check_page(page, checked, "check")

    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert path(page).endswith("/done/")
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{7}-\d", reference), reference
    check_page(page, checked, "done")

    # My applications, and the application's own page.
    tab_to(page, f"main a[href='{reverse('procedures:applications')}']")
    press(page, "Enter", navigates=True)
    assert reference in page.locator("main").inner_text()
    check_page(page, checked, "my applications")
    tab_to(page, "main table a")
    press(page, "Enter", navigates=True)
    assert reference in page.locator("main").inner_text()
    check_page(page, checked, "application")

    from cityhall.procedures.models import Application

    app = Application.objects.get(reference=reference)
    assert app.status == "submitted" and len(app.data["children"]) == 2
    assert app.data["children"][1]["relation_other"] == "孫"
    assert app.attachments.get().content_type == "image/png"
    assert len(checked) == 14


def _app_id(page: Any) -> int:
    match = re.search(r"/my/applications/(\d+)/", page.url)
    assert match, page.url
    return int(match.group(1))
