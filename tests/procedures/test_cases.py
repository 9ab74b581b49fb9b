"""The case board's services: who sees what, transitions and their rules, e-mails to the
resident over real SMTP, audit entries, bulk actions (all or nothing), SLA due dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from cityhall.core.models import AuditEvent
from cityhall.people.models import Role, StaffAssignment
from cityhall.procedures import signals
from cityhall.procedures.models import Application, ApplicationEvent, Procedure, Status
from cityhall.procedures.services import cases
from tests.procedures.test_board_support import (
    World,
    build_world,
    fresh,
    make_application,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def refs(page: cases.BoardPage) -> set[str]:
    return {a.reference or "" for a in page.rows}


# --- who sees what -----------------------------------------------------------------------------


def test_a_clerk_sees_only_their_departments_applications(world: World) -> None:
    page = cases.board(fresh(world.clerk_a))
    assert refs(page) == {world.apps["a1"].reference}
    assert page.count == 1 and not page.capped


def test_a_clerk_cannot_ask_for_another_department(world: World) -> None:
    with pytest.raises(PermissionDenied):
        cases.board(fresh(world.clerk_a), department=world.dept_b.pk)


def test_an_admin_sees_every_department(world: World) -> None:
    page = cases.board(fresh(world.admin))
    assert refs(page) == {world.apps["a1"].reference, world.apps["b1"].reference}
    assert refs(cases.board(fresh(world.admin), department=world.dept_b.pk)) == {
        world.apps["b1"].reference
    }


def test_a_second_assignment_grants_the_second_department(world: World) -> None:
    StaffAssignment.objects.create(user=world.clerk_a, department=world.dept_b, role=Role.CLERK)
    clerk = fresh(world.clerk_a)
    assert refs(cases.board(clerk)) == {world.apps["a1"].reference, world.apps["b1"].reference}
    cases.record_view(world.apps["b1"], None, actor=clerk)  # no PermissionDenied


def test_drafts_never_reach_the_board(world: World) -> None:
    draft = make_application(world.dog, world.resident, status=Status.DRAFT)
    page = cases.board(fresh(world.admin), status=list(Status.values))
    assert draft.pk not in {a.pk for a in page.rows}
    with pytest.raises(PermissionDenied):
        cases.record_view(draft, None, actor=fresh(world.admin))


def test_an_auditor_or_a_resident_has_no_board(world: World) -> None:
    from tests.conftest import make_staff

    auditor = make_staff("auditor@city.iga.example", "auditor")
    for user in (auditor, world.resident):
        with pytest.raises(PermissionDenied):
            cases.board(fresh(user))


def test_a_clerk_cannot_view_or_change_another_departments_application(world: World) -> None:
    clerk = fresh(world.clerk_a)
    other = world.apps["b1"]
    with pytest.raises(PermissionDenied):
        cases.record_view(other, None, actor=clerk)
    with pytest.raises(PermissionDenied):
        cases.transition(other, Status.RECEIVED, actor=clerk)
    with pytest.raises(PermissionDenied):
        cases.assign(other, clerk, actor=clerk)
    with pytest.raises(PermissionDenied):
        cases.add_note(other, "x", actor=clerk)
    with pytest.raises(PermissionDenied):
        cases.message_resident(other, "x", actor=clerk)
    other.refresh_from_db()
    assert other.status == Status.SUBMITTED and other.assignee_id is None
    assert not other.events.exists()


# --- filters, sorting, pages -------------------------------------------------------------------


def test_filters(world: World) -> None:
    clerk = fresh(world.clerk_a)
    today = timezone.localdate()
    cat = Procedure.objects.create(
        slug="cat", department=world.dept_a, category="animals", texts={"title": {"ja": "猫"}}
    )
    late = make_application(world.dog, world.resident, due_date=today - dt.timedelta(days=2))
    mine = make_application(world.dog, world.resident, assignee=world.clerk_a)
    counter = make_application(world.dog, world.resident, via=Application.Via.COUNTER)
    done = make_application(world.dog, world.resident, status=Status.APPROVED)
    old = make_application(
        world.dog,
        world.resident,
        submitted_at=timezone.now() - dt.timedelta(days=40),
        due_date=today + dt.timedelta(days=3),
    )
    closed_late = make_application(
        world.dog, world.resident, status=Status.REJECTED, due_date=today - dt.timedelta(days=9)
    )

    def found(**kw: Any) -> set[int]:
        return {a.pk for a in cases.board(clerk, **kw).rows}

    open_ids = {world.apps["a1"].pk, late.pk, mine.pk, counter.pk, old.pk}
    assert found() == open_ids
    assert found(overdue=True) == {late.pk}
    assert closed_late.pk not in found(overdue=True, status=[Status.REJECTED])
    assert found(assignee="me") == {mine.pk}
    assert found(assignee="none") == open_ids - {mine.pk}
    assert found(assignee=world.clerk_a.pk) == {mine.pk}
    assert found(via=Application.Via.COUNTER) == {counter.pk}
    assert found(status=[Status.APPROVED]) == {done.pk}
    assert found(status=[Status.APPROVED, Status.REJECTED]) == {done.pk, closed_late.pk}
    assert found(submitted_to=today - dt.timedelta(days=30)) == {old.pk}
    assert found(submitted_from=today - dt.timedelta(days=1)) == open_ids - {old.pk}
    assert found(due_before=today) == {late.pk}
    assert found(procedure=world.dog.pk) == open_ids
    assert found(procedure=cat.pk) == set()
    # The reference: whole (full-width digits too), or a part of it.
    reference = late.reference or ""
    wide = reference.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert found(reference=wide) == {late.pk}
    year, number, _check = reference.split("-")
    assert found(reference=number) == {late.pk}
    assert found(reference=str(late.pk)) == {late.pk}
    assert found(reference=f"{year}-{number}") == {late.pk}
    assert found(reference=f"{int(year) - 1}-{number}") == set()
    assert found(reference=f"{year}-") == open_ids  # anything else: a part of the text
    # Sorting.
    newest = [a.pk for a in cases.board(clerk).rows]
    assert newest[-1] == old.pk
    assert cases.board(clerk, sort="oldest").rows[0].pk == old.pk
    assert cases.board(clerk, sort="due").rows[0].pk == late.pk


def test_pages_and_the_capped_count(world: World, monkeypatch: Any) -> None:
    clerk = fresh(world.clerk_a)
    for _ in range(6):
        make_application(world.dog, world.resident)
    page = cases.board(clerk, per_page=3, page=2)
    assert page.count == 7 and page.num_pages == 3 and page.number == 2
    assert page.has_next and page.has_previous and len(page.rows) == 3
    assert cases.board(clerk, per_page=3, page=99).number == 3  # clamped to the last page
    monkeypatch.setattr(cases, "COUNT_CAP", 5)
    capped = cases.board(clerk, per_page=2, page=1)
    assert capped.capped and capped.count == 5 and capped.num_pages == 3


def test_the_list_does_not_decrypt_the_answers(world: World) -> None:
    page = cases.board(fresh(world.clerk_a))
    row = page.rows[0]
    assert "data" in row.get_deferred_fields()
    assert row.applicant_name == "伊賀 花子"


def test_listing_is_audited_with_what_was_shown(world: World) -> None:
    clerk = fresh(world.clerk_a)
    cases.board(clerk, overdue=True)
    cases.board(clerk)
    event = AuditEvent.objects.filter(action="application.list").latest("seq")
    assert event.actor_id == clerk.pk
    assert event.details["applications"] == [world.apps["a1"].pk]
    first = AuditEvent.objects.filter(action="application.list").earliest("seq")
    assert first.details["filters"] == {"overdue": True}


# --- transitions -------------------------------------------------------------------------------


def test_transitions_follow_the_rules(world: World) -> None:
    clerk = fresh(world.clerk_a)
    app = world.apps["a1"]
    event = cases.transition(app, Status.RECEIVED, actor=clerk)
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.RECEIVED)
    assert event.visible_to_resident  # the resident sees every status change
    with pytest.raises(cases.CaseError) as refused, translation.override("en"):
        cases.transition(app, Status.SUBMITTED, actor=clerk)
    assert refused.value.code == "transition"
    assert "cannot become" in str(refused.value)
    with pytest.raises(cases.CaseError):
        cases.transition(app, Status.WITHDRAWN, actor=clerk)  # only the resident withdraws
    cases.transition(app, Status.IN_REVIEW, actor=clerk)
    assert app.decided_at is None
    cases.transition(app, Status.APPROVED, actor=clerk)
    app.refresh_from_db()
    assert app.status == Status.APPROVED and app.decided_at is not None
    with pytest.raises(cases.CaseError):
        cases.transition(app, Status.IN_REVIEW, actor=clerk)  # final
    assert list(app.events.values_list("to_status", flat=True)) == [
        Status.RECEIVED,
        Status.IN_REVIEW,
        Status.APPROVED,
    ]
    statuses = AuditEvent.objects.filter(action="application.status", target_id=str(app.pk))
    assert statuses.count() == 3
    assert {e.subject_id for e in statuses} == {world.resident.pk}


@pytest.mark.parametrize("to_status", [Status.NEEDS_INFO, Status.REJECTED])
def test_needs_info_and_rejected_need_a_message(world: World, to_status: str) -> None:
    clerk = fresh(world.clerk_a)
    app = world.apps["a1"]
    with pytest.raises(cases.CaseError) as refused:
        cases.transition(app, to_status, actor=clerk, message="   ")
    assert refused.value.code == "message_required"
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and not app.events.exists()
    event = cases.transition(
        app, to_status, actor=clerk, message="住民票の写しを添付してください。"
    )
    assert event.visible_to_resident and event.text == "住民票の写しを添付してください。"
    assert (to_status in cases.FINAL_STATUSES) == (app.decided_at is not None)


def test_staff_do_not_move_a_draft(world: World) -> None:
    draft = make_application(world.dog, world.resident, status=Status.DRAFT)
    with pytest.raises(PermissionDenied):
        cases.transition(draft, Status.SUBMITTED, actor=fresh(world.clerk_a))


def test_the_status_signal_is_sent_after_commit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    signals.application_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            cases.transition(world.apps["a1"], Status.RECEIVED, actor=fresh(world.clerk_a))
        assert seen == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        signals.application_status_changed.disconnect(receiver)
    assert len(seen) == 1
    assert seen[0]["from_status"] == Status.SUBMITTED and seen[0]["to_status"] == Status.RECEIVED
    assert seen[0]["application"].pk == world.apps["a1"].pk


# --- e-mails over SMTP ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_resident_is_told_of_a_status_change_by_email(smtp_server: Any) -> None:
    world = build_world()
    app = world.apps["a1"]
    cases.transition(
        app, Status.NEEDS_INFO, actor=fresh(world.clerk_a), message="写真が不鮮明です。"
    )
    message = smtp_server.last_to("hanako@example.jp")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert app.reference in message["Subject"]
    assert "伊賀市" in message["Subject"]
    assert f"/my/applications/{app.pk}/" in body
    assert "犬の登録" in body
    assert "写真が不鮮明です" not in body  # the message itself stays on the site


@pytest.mark.django_db(transaction=True)
def test_the_status_email_is_in_the_applications_language(smtp_server: Any) -> None:
    world = build_world()
    app = make_application(world.dog, world.resident, language="en")
    cases.transition(app, Status.RECEIVED, actor=fresh(world.clerk_a))
    body = (
        smtp_server.last_to("hanako@example.jp").get_body(preferencelist=("plain",)).get_content()
    )
    assert "dog-registration (en)" in body  # the procedure's English title
    assert "Received" in body


@pytest.mark.django_db(transaction=True)
def test_a_message_to_the_resident_mails_a_link_only(smtp_server: Any) -> None:
    world = build_world()
    app = world.apps["a1"]
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    signals.resident_message_posted.connect(receiver)
    try:
        event = cases.message_resident(
            app, "来週窓口へお越しください。", actor=fresh(world.clerk_a)
        )
    finally:
        signals.resident_message_posted.disconnect(receiver)
    assert event.visible_to_resident and event.kind == ApplicationEvent.Kind.MESSAGE_TO_RESIDENT
    message = smtp_server.last_to("hanako@example.jp")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/my/applications/{app.pk}/" in body
    assert "来週窓口" not in body and "来週窓口" not in message["Subject"]
    assert seen and seen[0]["event"].pk == event.pk


@pytest.mark.django_db(transaction=True)
def test_no_email_to_an_invalid_address_and_none_for_a_note(smtp_server: Any) -> None:
    from tests.conftest import make_resident

    world = build_world()
    synthetic = make_resident("synthetic-1@example.invalid")
    app = make_application(world.dog, synthetic)
    cases.transition(app, Status.RECEIVED, actor=fresh(world.clerk_a))
    note = cases.add_note(world.apps["a1"], "電話で確認済み", actor=fresh(world.clerk_a))
    assert not note.visible_to_resident
    assert smtp_server.messages == []


# --- assignment, notes ---------------------------------------------------------------------------


def test_assign_only_to_staff_of_the_department(world: World) -> None:
    clerk = fresh(world.clerk_a)
    app = world.apps["a1"]
    with pytest.raises(cases.CaseError):
        cases.assign(app, world.clerk_b, actor=clerk)
    with pytest.raises(cases.CaseError):
        cases.assign(app, world.resident, actor=clerk)
    event = cases.assign(app, world.clerk_a, actor=clerk)
    assert event is not None and event.kind == ApplicationEvent.Kind.ASSIGNED
    assert cases.assign(app, world.clerk_a, actor=clerk) is None  # no change, no event
    cases.assign(app, None, actor=clerk)
    app.refresh_from_db()
    assert app.assignee_id is None
    assert AuditEvent.objects.filter(action="application.assign").count() == 2


def test_notes_are_internal_and_need_text(world: World) -> None:
    clerk = fresh(world.clerk_a)
    with pytest.raises(cases.CaseError):
        cases.add_note(world.apps["a1"], "  ", actor=clerk)
    with pytest.raises(cases.CaseError):
        cases.add_note(world.apps["a1"], "x" * (cases.TEXT_MAX + 1), actor=clerk)
    note = cases.add_note(world.apps["a1"], "本人確認書類は窓口で確認", actor=clerk)
    assert not note.visible_to_resident
    assert AuditEvent.objects.get(action="application.note").details == {"length": 12}


# --- bulk ---------------------------------------------------------------------------------------


def test_bulk_is_all_or_nothing(world: World) -> None:
    clerk = fresh(world.clerk_a)
    ok1 = world.apps["a1"]
    ok2 = make_application(world.dog, world.resident)
    approved = make_application(world.dog, world.resident, status=Status.APPROVED)
    with pytest.raises(cases.CaseError) as refused:
        cases.bulk(
            [ok1.pk, ok2.pk, approved.pk], "transition", actor=clerk, to_status=Status.IN_REVIEW
        )
    assert approved.reference in str(refused.value)
    assert set(
        Application.objects.filter(pk__in=[ok1.pk, ok2.pk]).values_list("status", flat=True)
    ) == {Status.SUBMITTED}
    assert not ApplicationEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="application.status").exists()

    # Another department's application in the lot: refused, nothing changes.
    with pytest.raises(PermissionDenied):
        cases.bulk([ok1.pk, world.apps["b1"].pk], "assign_me", actor=clerk)
    assert not Application.objects.filter(assignee__isnull=False).exists()

    assert cases.bulk([ok1.pk, ok2.pk], "assign_me", actor=clerk) == 2
    assert cases.bulk([ok1.pk, ok2.pk], "transition", actor=clerk, to_status=Status.RECEIVED) == 2
    assert set(
        Application.objects.filter(pk__in=[ok1.pk, ok2.pk]).values_list("status", "assignee_id")
    ) == {(Status.RECEIVED, clerk.pk)}
    bulk_event = AuditEvent.objects.filter(action="application.bulk").latest("seq")
    assert bulk_event.details["applications"] == [ok1.pk, ok2.pk]


def test_bulk_needs_info_needs_the_message_and_assign_checks_the_person(world: World) -> None:
    clerk = fresh(world.clerk_a)
    ids = [world.apps["a1"].pk, make_application(world.dog, world.resident).pk]
    with pytest.raises(cases.CaseError):
        cases.bulk(ids, "transition", actor=clerk, to_status=Status.NEEDS_INFO)
    with pytest.raises(cases.CaseError):
        cases.bulk(ids, "assign", actor=clerk, assignee=world.clerk_b)
    with pytest.raises(cases.CaseError):
        cases.bulk([], "assign_me", actor=clerk)
    with pytest.raises(cases.CaseError):
        cases.bulk(ids, "delete", actor=clerk)
    assert not ApplicationEvent.objects.exists()
    changed = cases.bulk(
        ids, "transition", actor=clerk, to_status=Status.NEEDS_INFO, message="印鑑が必要です"
    )
    assert changed == 2
    assert set(ApplicationEvent.objects.values_list("text", flat=True)) == {"印鑑が必要です"}


# --- audit of reads -------------------------------------------------------------------------------


def test_a_view_is_audited_with_the_resident_as_subject(world: World) -> None:
    clerk = fresh(world.clerk_a)
    cases.record_view(world.apps["a1"], None, actor=clerk)
    event = AuditEvent.objects.get(action="application.view")
    assert event.actor_id == clerk.pk
    assert event.subject_id == world.resident.pk
    assert event.target_id == str(world.apps["a1"].pk)
    assert event.details["page"] == "case"


# --- SLA due dates --------------------------------------------------------------------------------


def sla(days: int) -> Procedure:
    return Procedure(slug="x", sla_days=days)


@pytest.mark.parametrize(
    ("submitted", "days", "due"),
    [
        # Friday before Golden Week 2026: 4/29 昭和の日, 5/3–5/6 (5/6 振替休日) do not count.
        (dt.date(2026, 4, 24), 5, dt.date(2026, 5, 7)),
        (dt.date(2026, 4, 28), 1, dt.date(2026, 4, 30)),
        (dt.date(2026, 4, 30), 1, dt.date(2026, 5, 1)),
        (dt.date(2026, 5, 1), 1, dt.date(2026, 5, 7)),
        # A weekend.
        (dt.date(2026, 6, 5), 1, dt.date(2026, 6, 8)),
        (dt.date(2026, 6, 6), 1, dt.date(2026, 6, 8)),  # submitted on a Saturday
        (dt.date(2026, 6, 1), 14, dt.date(2026, 6, 19)),
        # The year-end closure (12/29–1/3) and 成人の日 (second Monday of January 2027).
        (dt.date(2026, 12, 28), 1, dt.date(2027, 1, 4)),
        (dt.date(2027, 1, 8), 1, dt.date(2027, 1, 12)),
        # No days: the same working day, or the next one.
        (dt.date(2026, 6, 5), 0, dt.date(2026, 6, 5)),
        (dt.date(2026, 6, 6), 0, dt.date(2026, 6, 8)),
    ],
)
def test_due_dates_count_working_days(submitted: dt.date, days: int, due: dt.date) -> None:
    assert cases.due_date_for(sla(days), submitted) == due


def test_due_date_from_a_late_evening_submission_uses_the_japanese_date() -> None:
    # 2026-04-28 23:30 in Tokyo is 14:30 UTC: the Japanese date counts.
    submitted = dt.datetime(2026, 4, 28, 14, 30, tzinfo=dt.UTC)
    assert cases.due_date_for(sla(1), submitted) == dt.date(2026, 4, 30)
