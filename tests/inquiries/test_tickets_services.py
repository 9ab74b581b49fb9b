"""Tickets: references, SLA due dates in working days, clerk answers reaching the resident's
inbox and mailbox, the audit trail, and who may see what."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.inquiries.models import RoutingRule, Ticket, TicketStatus
from cityhall.inquiries.services import tickets
from cityhall.notices.models import InboxItem
from cityhall.people.models import Consent, Department
from tests.conftest import make_resident, make_staff

pytestmark = pytest.mark.django_db


def _dept(code: str) -> Department:
    return Department.objects.get_or_create(code=code, defaults={"name": code})[0]


def test_references_are_unique_and_sequential() -> None:
    made = [tickets.create_ticket(subject=f"質問{i}", body="本文", channel="web") for i in range(5)]
    refs = [t.reference for t in made]
    year = timezone.localtime().year
    assert refs == [f"Q-{year}-{n:06d}" for n in range(1, 6)]
    assert len(set(refs)) == 5


@pytest.mark.django_db(transaction=True)
def test_references_stay_unique_under_concurrency() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a shared database (PostgreSQL in CI)")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                tickets.create_ticket(subject="同時", body="本文", channel="web")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Ticket.objects.values("reference").distinct().count() == 12


def test_due_date_skips_weekends_and_holidays(settings: Any) -> None:
    settings.INQUIRIES_SLA_DAYS = 3
    tz = timezone.get_current_timezone()
    # Friday 2025-05-02; 5/3–5/6 are Golden Week holidays (5/6 振替休日); 5/4–5/5 weekend.
    created = dt.datetime(2025, 5, 2, 10, 0, tzinfo=tz)
    due = timezone.localtime(tickets.due_at_for(created)).date()
    assert due == dt.date(2025, 5, 9)  # 5/7, 5/8, 5/9
    # Year-end closure: 12/26 (Fri) + 3 → 1/5, 1/6, 1/7 (12/29–1/3 closed, weekends).
    created = dt.datetime(2025, 12, 26, 10, 0, tzinfo=tz)
    assert timezone.localtime(tickets.due_at_for(created)).date() == dt.date(2026, 1, 7)


def test_create_ticket_routes_audits_and_acknowledges(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    RoutingRule.objects.create(words="住民票", department=_dept("shimin-seikatsu"))
    resident = make_resident()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.create_ticket(
            subject="住民票について", body="コンビニで取れますか", channel="web", resident=resident
        )
    assert ticket.department.code == "shimin-seikatsu"
    assert ticket.routed_by == Ticket.RoutedBy.RULE and ticket.status == TicketStatus.NEW
    assert ticket.due_at is not None and ticket.due_at > ticket.created_at
    event = AuditEvent.objects.get(action="inquiries.ticket.created")
    assert event.subject_id == resident.pk and event.details["reference"] == ticket.reference
    mail = smtp_server.last_to(resident.email)
    assert ticket.reference in str(mail["Subject"])
    assert f"/my/inquiries/{ticket.reference}/" in mail.get_content()


def test_reply_reaches_inbox_and_mail_and_resident_reopens(
    django_capture_on_commit_callbacks: Any, smtp_server: Any
) -> None:
    resident = make_resident()
    Consent.objects.create(user=resident, purpose=Consent.Purpose.NOTIFY, granted=True)
    RoutingRule.objects.create(words="ごみ", department=_dept("kankyo-seisaku"))
    ticket = tickets.create_ticket(
        subject="ごみ", body="収集日は？", channel="web", resident=resident
    )
    clerk = make_staff("gomi@city.iga.example", "clerk", "kankyo-seisaku")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.reply(ticket, clerk, "毎週月曜日です。")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED and ticket.first_answer_at is not None
    item = InboxItem.objects.get(user=resident)
    assert item.kind == InboxItem.Kind.INQUIRY and ticket.reference in item.title
    assert "毎週月曜日です。" in smtp_server.last_to(resident.email).get_content()
    tickets.add_note(ticket, clerk, "内部メモ")
    assert [m.body for m in tickets.public_thread(ticket)] == ["収集日は？", "毎週月曜日です。"]
    tickets.resident_reply(ticket, resident, "ありがとうございます")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    with pytest.raises(PermissionDenied):
        tickets.resident_reply(ticket, make_resident("taro@example.jp"), "他人")


def test_other_departments_cannot_act_and_triage_can_route() -> None:
    RoutingRule.objects.create(words="税", department=_dept("zeimu"))
    ticket = tickets.create_ticket(subject="税", body="住民税", channel="web")
    outsider = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    with pytest.raises(PermissionDenied):
        tickets.reply(ticket, outsider, "答え")
    assert tickets.staff_ticket(outsider, ticket.pk) is None
    assert tickets.open_count(outsider) == 0
    triage = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    tickets.route(ticket, triage, _dept("shimin-seikatsu"))
    ticket.refresh_from_db()
    assert ticket.routed_by == Ticket.RoutedBy.STAFF
    assert tickets.open_count(outsider) == 1
    tickets.close(ticket, outsider)
    assert tickets.open_count(outsider) == 0


def test_open_count_includes_the_triage_queue_for_triage_staff(settings: Any) -> None:
    settings.INQUIRIES_ROUTING_THRESHOLD = 1.1  # nothing passes: everything to triage
    tickets.create_ticket(subject="何か", body="質問", channel="web")
    triage = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    assert tickets.open_count(triage) == 1
    assert tickets.open_count(clerk) == 0
    page = tickets.board(triage, tickets.BoardFilters(triage=True))
    assert len(list(page)) == 1
