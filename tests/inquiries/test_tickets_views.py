"""The contact form, its receipt, my inquiries (only one's own), and the staff pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.inquiries.models import ReplyTemplate, RoutingRule, Ticket, TicketMessage
from cityhall.inquiries.services import tickets
from cityhall.people.models import Department
from tests.conftest import login_staff, make_resident, make_staff

pytestmark = pytest.mark.django_db


def _dept(code: str) -> Department:
    return Department.objects.get_or_create(code=code, defaults={"name": code})[0]


def _en(client: Any) -> Any:
    client.cookies["cityhall_lang"] = "en"
    return client


def test_anonymous_contact_form_errors_keep_the_input(client: Any) -> None:
    response = _en(client).post(reverse("inquiries:contact"), {"subject": "Hello", "body": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'value="Hello"' in html
    assert Ticket.objects.count() == 0


def test_anonymous_contact_sends_and_shows_the_reference(client: Any) -> None:
    response = _en(client).post(
        reverse("inquiries:contact"),
        {
            "subject": "Bins",
            "body": "When is collection?",
            "name": "Ana",
            "email": "ana@example.jp",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inquiries:contact_sent", args=[ticket.reference])
    page = client.get(response["Location"])
    assert page.status_code == 200 and ticket.reference in page.content.decode()
    assert ticket.email == "ana@example.jp" and ticket.language == "en" and ticket.resident is None
    # Another browser does not see the receipt.
    client.cookies.clear()
    client.session.flush()
    assert client.get(response["Location"]).status_code == 404


def test_honeypot_keeps_bots_out(client: Any) -> None:
    client.post(
        reverse("inquiries:contact"),
        {"subject": "x", "body": "y", "name": "b", "email": "b@example.jp", "website": "spam"},
    )
    assert Ticket.objects.count() == 0


def test_faq_prefill_note(client: Any) -> None:
    from cityhall.inquiries.models import FaqEntry, FaqText

    entry = FaqEntry.objects.create(key="gomi-001")
    FaqText.objects.create(
        entry=entry, language="en", question="How do I sort garbage?", answer="…"
    )
    page = _en(client).get(reverse("inquiries:contact") + "?faq=gomi-001")
    assert "How do I sort garbage?" in page.content.decode()


def test_logged_in_resident_sees_only_their_own_thread(client: Any) -> None:
    resident = make_resident()
    other = make_resident("taro@example.jp")
    client.force_login(resident)
    _en(client).post(reverse("inquiries:contact"), {"subject": "Tax", "body": "My question"})
    mine = Ticket.objects.get(resident=resident)
    theirs = tickets.create_ticket(subject="Other", body="secret", channel="web", resident=other)
    clerk = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    tickets.route(mine, clerk, _dept("zeimu"))
    tickets.add_note(mine, clerk, "internal only")
    tickets.reply(mine, make_staff("zei@city.iga.example", "clerk", "zeimu"), "Here is the answer")
    listing = client.get(reverse("inquiries:my_tickets")).content.decode()
    assert mine.reference in listing and theirs.reference not in listing
    thread = client.get(reverse("inquiries:my_ticket", args=[mine.reference]))
    html = thread.content.decode()
    assert "Here is the answer" in html and "internal only" not in html
    assert client.get(reverse("inquiries:my_ticket", args=[theirs.reference])).status_code == 404
    assert client.get(reverse("inquiries:contact_sent", args=[theirs.reference])).status_code == 404
    response = client.post(reverse("inquiries:my_ticket", args=[mine.reference]), {"body": ""})
    assert response.status_code == 422
    client.post(reverse("inquiries:my_ticket", args=[mine.reference]), {"body": "Thanks"})
    mine.refresh_from_db()
    assert mine.status == "open"
    mypage = client.get(reverse("portal:mypage")).content.decode()
    assert mine.reference in mypage


def test_my_inquiries_needs_a_login(client: Any) -> None:
    response = client.get(reverse("inquiries:my_tickets"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_staff_list_detail_and_permissions(client: Any) -> None:
    RoutingRule.objects.create(words="税", department=_dept("zeimu"))
    ticket = tickets.create_ticket(
        subject="税の質問", body="住民税", channel="web", name="A", email="a@example.jp"
    )
    zeimu = make_staff("zei@city.iga.example", "clerk", "zeimu")
    other = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    login_staff(_en(client), other)
    assert ticket.reference not in client.get(reverse("inqstaff:tickets")).content.decode()
    assert client.get(reverse("inqstaff:ticket", args=[ticket.pk])).status_code == 404
    assert (
        client.post(
            reverse("inqstaff:ticket_reply", args=[ticket.pk]), {"kind": "answer", "body": "x"}
        ).status_code
        == 404
    )
    assert client.get(reverse("inqstaff:rules")).status_code == 403
    client.logout()
    login_staff(_en(client), zeimu)
    listing = client.get(reverse("inqstaff:tickets")).content.decode()
    assert ticket.reference in listing
    template = ReplyTemplate.objects.create(
        title="Thanks", bodies={"ja": "ありがとう", "en": "Thank you"}
    )
    detail = client.get(reverse("inqstaff:ticket", args=[ticket.pk]) + f"?template={template.pk}")
    assert detail.status_code == 200 and "ありがとう" in detail.content.decode()  # ticket is ja
    assert AuditEvent.objects.filter(
        action="inquiries.ticket.view", target_id=str(ticket.pk)
    ).exists()
    bad = client.post(
        reverse("inqstaff:ticket_reply", args=[ticket.pk]), {"kind": "answer", "body": ""}
    )
    assert bad.status_code == 422
    client.post(
        reverse("inqstaff:ticket_reply", args=[ticket.pk]), {"kind": "answer", "body": "Answer"}
    )
    assert TicketMessage.objects.filter(ticket=ticket, kind="staff", body="Answer").exists()
    client.post(
        reverse("inqstaff:ticket_status", args=[ticket.pk]),
        {"status": "closed", "assignee": zeimu.pk},
    )
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.assignee == zeimu


def test_triage_staff_see_the_guess_and_route(client: Any, settings: Any) -> None:
    settings.INQUIRIES_ROUTING_THRESHOLD = 1.1
    Ticket.objects.create(
        reference="Q-2025-000900",
        subject="児童手当",
        department=_dept("kosodate-shien"),
        routed_by="staff",
    )
    TicketMessage.objects.create(
        ticket=Ticket.objects.get(reference="Q-2025-000900"), kind="resident", body="児童手当の申請"
    )
    from cityhall.inquiries.services import routing

    routing.invalidate()
    ticket = tickets.create_ticket(subject="児童手当について", body="児童手当", channel="web")
    assert ticket.department is None
    triage = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    login_staff(_en(client), triage)
    assert ticket.suggested_department == _dept("kosodate-shien")
    percent = round((ticket.confidence or 0) * 100)
    name = _dept("kosodate-shien").localized_name("en")
    listing = client.get(reverse("inqstaff:tickets") + "?triage=on").content.decode()
    assert ticket.reference in listing and f"Suggested: {name} ({percent} %)" in listing
    page = client.get(reverse("inqstaff:ticket", args=[ticket.pk])).content.decode()
    assert f"Suggested: {name} ({percent} %)" in page
    assert "Route to the suggested department" in page
    assert f'name="department" value="{_dept("kosodate-shien").pk}"' in page
    assert "csrfmiddlewaretoken" in page
    response = client.post(
        reverse("inqstaff:ticket_route", args=[ticket.pk]),
        {"department": _dept("kosodate-shien").pk},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.department.code == "kosodate-shien" and ticket.routed_by == "staff"
    assert ticket.suggested_department is None
    assert AuditEvent.objects.filter(
        action="inquiries.ticket.routed", details__suggestion=True
    ).exists()
    history = client.get(reverse("inqstaff:ticket", args=[ticket.pk])).content.decode()
    assert "Route to the suggested department" not in history
    events = list(ticket.messages.filter(kind="event").values_list("body", flat=True))
    assert len(events) == 2 and not any(e.startswith(("route:", "routed:")) for e in events)
    assert all(e in history for e in events)
    # Rules and templates pages for triage staff.
    page = client.post(
        reverse("inqstaff:rules"),
        {
            "words": "児童手当",
            "department": _dept("kosodate-shien").pk,
            "priority": 10,
            "active": "on",
        },
    )
    assert page.status_code == 302 and RoutingRule.objects.filter(words="児童手当").exists()
    assert client.post(reverse("inqstaff:rules"), {"words": ""}).status_code == 422
    saved = client.post(
        reverse("inqstaff:reply_templates"), {"title": "T", "body_ja": "本文", "active": "on"}
    )
    assert saved.status_code == 302 and ReplyTemplate.objects.get(title="T").bodies == {
        "ja": "本文"
    }


def test_seed_commands_are_idempotent() -> None:
    import io
    import json
    from pathlib import Path

    from django.core.management import call_command

    import cityhall.people

    data = json.loads(
        (Path(cityhall.people.__file__).parent / "data" / "departments.json").read_text()
    )
    for row in data if isinstance(data, list) else data["departments"]:
        _dept(row["code"])
    call_command("seed_inquiries", stdout=io.StringIO())
    rules, templates = RoutingRule.objects.count(), ReplyTemplate.objects.count()
    assert rules >= 25 and templates >= 10
    call_command("seed_inquiries", stdout=io.StringIO())
    assert (RoutingRule.objects.count(), ReplyTemplate.objects.count()) == (rules, templates)
    call_command("seed_demo_inquiries", stdout=io.StringIO())
    count = Ticket.objects.count()
    assert count >= 25
    assert Ticket.objects.filter(department__isnull=True).count() == 3
    assert Ticket.objects.filter(channel="email").count() == 2
    assert Ticket.objects.filter(channel="chat").count() == 1
    call_command("seed_demo_inquiries", stdout=io.StringIO())
    assert Ticket.objects.count() == count
