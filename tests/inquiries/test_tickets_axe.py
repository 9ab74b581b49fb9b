"""The inquiry pages in a real browser: axe-core finds nothing on the contact form (also
with errors), its receipt, my inquiries and a thread, the staff list and an inquiry — at
1280 px and 360 px, with nothing scrolling sideways; and a resident sends the contact form
with the keyboard only and gets the reference number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.inquiries.models import ReplyTemplate, RoutingRule, Ticket
from cityhall.inquiries.services import tickets
from cityhall.people.models import Department
from tests.conftest import login_staff, make_resident, make_staff
from tests.e2e.helpers import (
    PHONE,
    assert_no_horizontal_scroll,
    format_violations,
    launch_chromium,
    press,
    run_axe,
    session_cookie,
    tab_to,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
CONTACT_SUBMIT = "form[action='/contact/'] button[type=submit]"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as launched:
        yield launched


def _context(browser: Any, live_server: Any, client: Any | None, viewport: dict[str, int]) -> Any:
    context = browser.new_context(
        viewport=viewport, bypass_csp=True, reduced_motion="reduce", locale="ja-JP"
    )
    context.set_default_timeout(15_000)
    if client is not None:
        context.add_cookies(
            [
                {"name": k, "value": v, "url": live_server.url}
                for k, v in session_cookie(client).items()
            ]
        )
    return context


def _clean(page: Any, what: str, width: int) -> None:
    violations = run_axe(page)
    assert not violations, f"{what}: {page.url}\n{format_violations(violations)}"
    assert_no_horizontal_scroll(page, width)


def _world() -> dict[str, Any]:
    zeimu = Department.objects.get_or_create(code="zeimu", defaults={"name": "税務課"})[0]
    RoutingRule.objects.create(words="住民税", department=zeimu)
    ReplyTemplate.objects.create(title="お礼", bodies={"ja": "ありがとうございます。"})
    resident = make_resident()
    ticket = tickets.create_ticket(
        subject="住民税の納付書", body="納付書をなくしました。", channel="web", resident=resident
    )
    clerk = make_staff("zei@city.iga.example", "clerk", "zeimu")
    tickets.reply(ticket, clerk, "再発行できます。窓口へお越しください。")
    tickets.add_note(ticket, clerk, "電話あり")
    return {"resident": resident, "ticket": ticket, "clerk": clerk}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_inquiry_pages_have_no_axe_violations(
    browser: Any, live_server: Any, viewport: dict[str, int]
) -> None:
    world = _world()
    width = viewport["width"]
    ticket = world["ticket"]
    base = live_server.url

    anonymous = _context(browser, live_server, None, viewport)
    page = anonymous.new_page()
    page.goto(base + reverse("inquiries:contact"))
    _clean(page, "contact form", width)
    page.click(CONTACT_SUBMIT)
    page.wait_for_load_state("load")
    assert page.locator("#error-summary").count() == 1
    _clean(page, "contact form with errors", width)
    anonymous.close()

    resident_client = Client()
    resident_client.force_login(world["resident"])
    context = _context(browser, live_server, resident_client, viewport)
    page = context.new_page()
    page.goto(base + reverse("inquiries:contact"))
    page.fill("#id_subject", "ごみの日")
    page.fill("#id_body", "収集日を教えてください。")
    page.click(CONTACT_SUBMIT)
    page.wait_for_load_state("load")
    assert page.locator("#reference").count() == 1
    _clean(page, "sent page", width)
    page.goto(base + reverse("inquiries:my_tickets"))
    _clean(page, "my inquiries", width)
    page.goto(base + reverse("inquiries:my_ticket", args=[ticket.reference]))
    assert "再発行できます" in page.content() and "電話あり" not in page.content()
    _clean(page, "thread", width)
    context.close()

    staff_client = login_staff(Client(), world["clerk"])
    context = _context(browser, live_server, staff_client, viewport)
    page = context.new_page()
    page.goto(base + reverse("inqstaff:tickets"))
    _clean(page, "staff list", width)
    page.goto(base + reverse("inqstaff:ticket", args=[ticket.pk]))
    _clean(page, "staff detail", width)
    context.close()


def test_resident_sends_the_contact_form_by_keyboard(browser: Any, live_server: Any) -> None:
    context = _context(browser, live_server, None, DESKTOP)
    page = context.new_page()
    page.goto(live_server.url + reverse("inquiries:contact"))
    tab_to(page, "#id_subject")
    page.keyboard.type("ごみの出し方")
    tab_to(page, "#id_body")
    page.keyboard.type("粗大ごみはどう出しますか。")
    tab_to(page, "#id_name")
    page.keyboard.type("伊賀 花子")
    tab_to(page, "#id_email")
    page.keyboard.type("hanako@example.jp")
    tab_to(page, CONTACT_SUBMIT)
    press(page, "Enter", navigates=True)
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"Q-\d{4}-\d{6}", reference)
    assert Ticket.objects.get(reference=reference).email == "hanako@example.jp"
    context.close()
