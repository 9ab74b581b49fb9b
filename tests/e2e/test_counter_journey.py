"""A full counter session (書かない窓口) in headless Chromium, by keyboard alone.

The clerk logs in with password and TOTP, finds the resident, opens a procedure (the
form arrives filled in from the resident's profile), completes it, shows it to the
resident; the resident's screen is a second page of the same browser context (the
clerk's session), where the resident ticks "checked", types their name as signature
and confirms; the clerk checks again, submits and sees the reference. Only Tab,
Shift+Tab, typing, Space, Enter and the arrow keys are used. axe-core runs on every
page and must find nothing; no page scrolls sideways at 360 px.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, make_resident, make_staff, totp_now
from tests.e2e.helpers import (
    PHONE,
    assert_no_horizontal_scroll,
    first_tab_is_skip_link,
    format_violations,
    press,
    run_axe,
    tab_to,
)

pytestmark = pytest.mark.e2e

FORM = {
    "title": {"ja": "転入届", "en": "Moving in"},
    "steps": [
        {
            "key": "person",
            "title": {"ja": "届け出る人", "en": "The person"},
            "fields": [
                {
                    "key": "name",
                    "type": "name",
                    "label": {"ja": "氏名", "en": "Name"},
                    "prefill": ["identity.name", "profile.name"],
                },
                {
                    "key": "address",
                    "type": "address",
                    "label": {"ja": "新しい住所", "en": "New address"},
                    "prefill": ["profile.address"],
                },
                {
                    "key": "moved_on",
                    "type": "date",
                    "label": {"ja": "転入した日", "en": "Date moved in"},
                },
                {
                    "key": "id_checked",
                    "type": "consent",
                    "label": {"ja": "本人確認書類を確認した", "en": "Identity document checked"},
                    "counter_only": True,
                },
            ],
        },
        {
            "key": "sign",
            "title": {"ja": "署名", "en": "Signature"},
            "fields": [{"key": "signature", "type": "signature", "label": {"ja": "署名"}}],
        },
    ],
}


# A form with every kind of builder row (group, choices, condition) for the axe runs of the
# builder's pages (tests/e2e/test_axe.py uses :func:`axe_world`).
AXE_FORM = json.loads(json.dumps(FORM))
AXE_FORM["steps"][0]["fields"][2:2] = [
    {
        "key": "household",
        "type": "choice",
        "label": {"ja": "世帯", "en": "Household"},
        "choices": [
            {"value": "alone", "label": {"ja": "単身", "en": "Alone"}},
            {"value": "family", "label": {"ja": "家族と", "en": "With family"}},
        ],
        "required": False,
    },
    {
        "key": "members",
        "type": "group",
        "label": {"ja": "一緒に転入する人", "en": "People moving with you"},
        "condition": {"field": "household", "equals": "family"},
        "required": False,
        "fields": [
            {"key": "name", "type": "name", "label": {"ja": "氏名", "en": "Name"}},
            {"key": "born", "type": "date", "label": {"ja": "生年月日"}, "calendar": "wareki"},
        ],
    },
]


def axe_world(staff: Any, resident: Any) -> dict[str, Any]:
    """A procedure with a published form (``moving-in``; steps ``person`` and ``sign``;
    questions ``name``, ``household``, group ``members`` with ``name``), a counter session
    waiting (``session``, its draft ``app``) and one showing a complete application on the
    resident's screen (``showing_session``). ``staff`` needs a case role in 市民生活課 or
    admin."""
    from cityhall.people.models import Department
    from cityhall.procedures.models import Procedure
    from cityhall.procedures.services import applications, builder, counter

    applications._parsed.cache_clear()
    department, _ = Department.objects.get_or_create(
        code="shimin-seikatsu", defaults={"name": "市民生活課"}
    )
    procedure = Procedure.objects.create(
        slug="moving-in",
        department=department,
        category="residence",
        life_events=["moving"],
        texts={"title": {"ja": "転入届", "en": "Moving in"}},
    )
    builder.import_json(staff, procedure, "", json.dumps(AXE_FORM))
    builder.publish(staff, procedure, builder.stamp_of(builder.definition_of(procedure)))
    session = counter.start_session(staff, resident, [procedure])
    showing = counter.start_session(staff, resident, [procedure])
    app = counter.applications_of(showing)[0]
    values = {
        "name": {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"},
        "address": "伊賀市上野丸之内116",
        "moved_on": "2026-04-01",
        "id_checked": True,
    }
    app = counter.save_step(staff, showing, app, "person", values)
    counter.show(staff, showing, app)
    return {
        "procedure": procedure,
        "session": session,
        "app": counter.applications_of(session)[0],
        "showing_session": showing,
    }


def check_page(page: Any, checked: list[str], label: str) -> None:
    violations = run_axe(page)
    assert not violations, f"{label} {page.url}\n" + format_violations(violations)
    assert_no_horizontal_scroll(page, PHONE["width"])
    assert page.locator("h1").count() == 1, f"{label}: one h1"
    checked.append(label)


def path(page: Any) -> str:
    return urlsplit(page.url).path


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def choose_with_arrows(page: Any, selector: str, value: str) -> None:
    tab_to(page, selector)
    for _ in range(40):
        if page.eval_on_selector(selector, "el => el.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"could not reach {value!r} in {selector}")


def setup_city() -> dict[str, Any]:
    from cityhall.people.models import Department
    from cityhall.procedures.models import Procedure
    from cityhall.procedures.services import applications, builder

    applications._parsed.cache_clear()
    clerk = make_staff(
        "counter.clerk@city.iga.example", "clerk", "shimin-seikatsu", display_name="窓口 一郎"
    )
    procedure = Procedure.objects.create(
        slug="moving-in",
        department=Department.objects.get(code="shimin-seikatsu"),
        category="residence",
        life_events=["moving"],
        texts={"title": {"ja": "転入届", "en": "Moving in"}},
    )
    builder.import_json(clerk, procedure, "", json.dumps(FORM))
    builder.publish(clerk, procedure, builder.stamp_of(builder.definition_of(procedure)), note="v1")
    resident = make_resident(
        "hanako.counter@example.jp", address="三重県伊賀市上野丸之内116", phone="0595-22-0000"
    )
    resident.display_name = "伊賀 花子"
    resident.save()
    return {"clerk": clerk, "procedure": procedure, "resident": resident}


def test_a_counter_session_by_keyboard(
    make_context: Any, live_server: Any, settings: Any, city: Any, tmp_path: Any
) -> None:
    from cityhall.core.models import AuditEvent
    from cityhall.procedures.models import Application, CounterSession

    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    world = setup_city()
    context = make_context(language="en")
    page = context.new_page()
    page.emulate_media(reduced_motion="reduce")
    checked: list[str] = []

    # --- the clerk logs in: password, then the TOTP code --------------------------------
    page.goto("/staff/counter/")
    assert path(page) == "/staff/login/"
    check_page(page, checked, "staff login")
    # The login page puts the focus in the e-mail field.
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type(world["clerk"].email)
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert path(page) == "/staff/mfa/"
    if page.evaluate("document.activeElement.name") != "code":
        tab_to(page, "main form input[name=code]")
    page.keyboard.type(totp_now(world["clerk"]))
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    assert path(page) == reverse("procstaff:counter"), page.url
    check_page(page, checked, "counter home")

    # --- find the resident (the search is audited) --------------------------------------
    first_tab_is_skip_link(page)
    type_into(page, "#id_q", "hanako")
    press(page, "Enter", navigates=True)
    assert "伊賀 花子" in page.locator("main table").inner_text()
    check_page(page, checked, "counter search")
    start_url = reverse("procstaff:counter_start", args=[world["resident"].pk])
    tab_to(page, f"main a[href='{start_url}']")
    press(page, "Enter", navigates=True)
    assert path(page) == start_url
    check_page(page, checked, "choose procedures")

    # A life event shows its procedures as check boxes (looked at, not used here).
    choose_with_arrows(page, "#id_event", "moving")
    tab_to(page, "main form[method=get] button[type=submit]")
    press(page, "Enter", navigates=True)
    assert page.locator("input[name=procedures][value=moving-in]").is_checked()
    check_page(page, checked, "choose procedures (life event)")

    # --- one procedure -----------------------------------------------------------------
    choose_with_arrows(page, "#id_procedure", str(world["procedure"].pk))
    tab_to(page, "main form:has(#id_procedure) button[type=submit]")
    press(page, "Enter", navigates=True)
    session = CounterSession.objects.get()
    app = Application.objects.get(counter_session=session)
    assert path(page) == reverse("procstaff:counter_session", args=[session.pk])
    check_page(page, checked, "counter session")

    tab_to(page, f"main a[href='{reverse('procstaff:counter_app', args=[session.pk, app.pk])}']")
    press(page, "Enter", navigates=True)
    assert path(page) == reverse("procstaff:counter_step", args=[session.pk, app.pk, "person"])
    check_page(page, checked, "counter step")
    # Prefilled from the profile: nobody writes what the city knows.
    assert page.input_value("#id_name-family") == "伊賀"
    assert page.input_value("#id_name-given") == "花子"
    assert page.input_value("#id_address") == "三重県伊賀市上野丸之内116"

    # Save with the readings missing: the error summary explains.
    tab_to(page, "main .actions button[type=submit]")
    press(page, "Enter", navigates=True)
    assert page.locator(".error-summary").count() == 1
    check_page(page, checked, "counter step (errors)")
    type_into(page, "#id_name-family_kana", "いが")
    type_into(page, "#id_name-given_kana", "はなこ")
    type_into(page, "#id_moved_on-year", "2026")
    type_into(page, "#id_moved_on-month", "4")
    type_into(page, "#id_moved_on-day", "1")
    tab_to(page, "#id_id_checked")
    press(page, "Space")
    assert page.is_checked("#id_id_checked")
    tab_to(page, "main .actions button[type=submit]")
    press(page, "Enter", navigates=True)
    review_url = reverse("procstaff:counter_review", args=[session.pk, app.pk])
    assert path(page) == review_url, page.locator("main").inner_text()[:600]
    check_page(page, checked, "counter review")

    # --- show it on the resident's screen -----------------------------------------------
    tab_to(page, "main form button[type=submit]")
    assert "Show to the resident" in page.evaluate("document.activeElement.innerText")
    press(page, "Enter", navigates=True)
    assert page.get_by_role("link", name="Check again", exact=True).count() == 1
    check_page(page, checked, "counter review (showing)")

    display = context.new_page()
    display.emulate_media(reduced_motion="reduce")
    display.goto(reverse("procstaff:counter_display", args=[session.pk]))
    assert "display-large" in display.evaluate("document.body.className")
    assert display.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") >= 23
    assert display.locator("meta[http-equiv=refresh]").count() == 0  # never while showing
    assert "三重県伊賀市上野丸之内116" in display.locator("main").inner_text()
    assert display.locator("canvas.signature-pad__canvas").count() == 1  # the pen is optional
    check_page(display, checked, "resident's screen")

    # The resident confirms without ticking: the error summary says why.
    first_tab_is_skip_link(display)
    type_into(display, "#id_signature", "伊賀 花子")
    tab_to(display, "main form.counter-confirm button[type=submit]")
    press(display, "Enter", navigates=True)
    assert display.locator(".error-summary").count() == 1
    check_page(display, checked, "resident's screen (errors)")
    tab_to(display, "#id_checked")
    press(display, "Space")
    assert display.is_checked("#id_checked")
    type_into(display, "#id_signature", "伊賀 花子")
    tab_to(display, "main form.counter-confirm button[type=submit]")
    press(display, "Enter", navigates=True)
    assert display.locator(".counter-display__thanks").is_visible()
    check_page(display, checked, "resident's screen (thanks, waiting)")
    app.refresh_from_db()
    assert app.resident_confirmed_at is not None
    assert app.data["signature"] == {"typed": "伊賀 花子"}

    # --- the clerk checks again and submits ---------------------------------------------
    page.bring_to_front()
    first_tab_is_skip_link(page)
    tab_to(page, f"main a.button[href='{review_url}']")
    press(page, "Enter", navigates=True)
    assert "The resident confirmed and signed" in page.locator("main").inner_text()
    check_page(page, checked, "counter review (confirmed)")
    tab_to(page, "main form[action$='/submit/'] button[type=submit]")
    press(page, "Enter", navigates=True)
    app.refresh_from_db()
    assert app.status == "submitted" and app.via == "counter"
    assert app.counter_seconds is not None
    assert app.reference in page.locator("main").inner_text()
    check_page(page, checked, "counter review (submitted)")

    page.goto(reverse("procstaff:counter_session", args=[session.pk]))
    check_page(page, checked, "counter session (submitted)")
    page.goto(reverse("procstaff:counter_kpi"))
    assert "Moving in" in page.locator("main table").inner_text()
    check_page(page, checked, "counter KPI")
    page.goto(reverse("procstaff:counter_resident_new"))
    check_page(page, checked, "new resident")
    tab_to(page, "main form button[type=submit]")
    press(page, "Enter", navigates=True)
    check_page(page, checked, "new resident (errors)")

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "staff.resident_search",
        "staff.resident_view",
        "counter.start",
        "counter.show",
        "application.confirm",
        "application.submit",
    } <= actions
    assert len(checked) == 19
