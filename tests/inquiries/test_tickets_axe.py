"""The inquiry pages in a real browser: axe-core finds nothing on the contact form (also
with errors), its receipt, my inquiries and a thread, the staff list and an inquiry — at
1280 px and 360 px, with nothing scrolling sideways; and a resident sends the contact form
with the keyboard only and gets the reference number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.inquiries.models import ReplyTemplate, RoutingRule, Ticket
from cityhall.inquiries.services import tickets
from cityhall.people.models import Department
from tests.conftest import login_staff, make_resident, make_staff
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    assert_axe_clean,
    axe_context,
    press,
    tab_to,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CONTACT_SUBMIT = "form[action='/contact/'] button[type=submit]"


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

    anonymous = axe_context(browser, live_server, None, viewport)
    page = anonymous.new_page()
    page.goto(base + reverse("inquiries:contact"))
    assert_axe_clean(page, "contact form", width)
    page.click(CONTACT_SUBMIT)
    page.wait_for_load_state("load")
    assert page.locator("#error-summary").count() == 1
    assert_axe_clean(page, "contact form with errors", width)
    anonymous.close()

    resident_client = Client()
    resident_client.force_login(world["resident"])
    context = axe_context(browser, live_server, resident_client, viewport)
    page = context.new_page()
    page.goto(base + reverse("inquiries:contact"))
    page.fill("#id_subject", "ごみの日")
    page.fill("#id_body", "収集日を教えてください。")
    page.click(CONTACT_SUBMIT)
    page.wait_for_load_state("load")
    assert page.locator("#reference").count() == 1
    assert_axe_clean(page, "sent page", width)
    page.goto(base + reverse("inquiries:my_tickets"))
    assert_axe_clean(page, "my inquiries", width)
    page.goto(base + reverse("inquiries:my_ticket", args=[ticket.reference]))
    assert "再発行できます" in page.content() and "電話あり" not in page.content()
    assert_axe_clean(page, "thread", width)
    context.close()

    staff_client = login_staff(Client(), world["clerk"])
    context = axe_context(browser, live_server, staff_client, viewport)
    page = context.new_page()
    page.goto(base + reverse("inqstaff:tickets"))
    assert_axe_clean(page, "staff list", width)
    page.goto(base + reverse("inqstaff:ticket", args=[ticket.pk]))
    assert_axe_clean(page, "staff detail", width)
    context.close()


def test_resident_sends_the_contact_form_by_keyboard(browser: Any, live_server: Any) -> None:
    context = axe_context(browser, live_server, None, DESKTOP)
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
