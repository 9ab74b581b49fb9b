"""The case board's pages: the list with filters and bulk actions, one case with its actions,
attachments, 403 for other departments, an audit entry for every read, accessible markup."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.people.models import Role, StaffAssignment
from cityhall.procedures.models import Application, ApplicationEvent, Attachment, Status
from tests.conftest import login_staff, make_staff
from tests.people.test_staff_accessibility import check
from tests.procedures.test_board_support import World, build_world, make_application

pytestmark = pytest.mark.django_db

BOARD = "/staff/cases/"


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def case_url(app: Application, name: str = "procstaff:case") -> str:
    return reverse(name, args=[app.pk])


def test_the_board_lists_only_the_clerks_department(world: World, client: Any) -> None:
    assert reverse("procstaff:board") == BOARD
    login_staff(client, world.clerk_a)
    response = client.get(BOARD)
    html = response.content.decode()
    assert response.status_code == 200
    assert world.apps["a1"].reference in html and "伊賀 花子" in html
    assert world.apps["b1"].reference not in html and "上野 太郎" not in html
    check(response, BOARD)


def test_the_board_for_an_admin_and_for_a_clerk_with_two_departments(
    world: World, client: Any
) -> None:
    login_staff(client, world.admin)
    html = client.get(BOARD).content.decode()
    assert world.apps["a1"].reference in html and world.apps["b1"].reference in html
    assert 'name="department"' in html  # several departments: the filter is offered
    client.logout()
    StaffAssignment.objects.create(user=world.clerk_a, department=world.dept_b, role=Role.CLERK)
    login_staff(client, world.clerk_a)
    html = client.get(BOARD).content.decode()
    assert world.apps["a1"].reference in html and world.apps["b1"].reference in html
    assert "こども未来課" in html  # the department column
    html = client.get(BOARD, {"department": world.dept_b.pk}).content.decode()
    assert world.apps["a1"].reference not in html and world.apps["b1"].reference in html


def test_filtering_overdue_by_reference_and_a_bad_filter(world: World, client: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    late = make_application(
        world.dog, world.resident, due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    login_staff(client, world.clerk_a)
    response = client.get(BOARD, {"overdue": "on"})
    html = response.content.decode()
    assert late.reference in html and world.apps["a1"].reference not in html
    assert "board-overdue" in html  # said in words, not only by colour
    html = client.get(BOARD, {"reference": world.apps["a1"].reference}).content.decode()
    assert world.apps["a1"].reference in html and late.reference not in html
    # Another department in the filter is not a choice: 422 with the error summary.
    response = client.get(BOARD, {"department": world.dept_b.pk})
    assert response.status_code == 422
    assert "error-summary" in response.content.decode()
    assert world.apps["b1"].reference not in response.content.decode()
    response = client.get(BOARD, {"submitted_from": "2026-05-01", "submitted_to": "2026-04-01"})
    assert response.status_code == 422


def test_pagination_links_keep_the_filter(world: World, client: Any, monkeypatch: Any) -> None:
    from cityhall.procedures.services import cases

    monkeypatch.setattr(cases, "PER_PAGE", 2)
    for _ in range(4):
        make_application(world.dog, world.resident)
    login_staff(client, world.clerk_a)
    html = client.get(BOARD, {"via": "online"}).content.decode()
    assert "via=online&amp;page=2" in html
    assert client.get(BOARD, {"via": "online", "page": "3"}).status_code == 200
    assert client.get(BOARD, {"page": "nonsense"}).status_code == 200


def test_the_board_is_closed_to_staff_without_a_case_role(world: World, client: Any) -> None:
    auditor = make_staff("auditor@city.iga.example", Role.AUDITOR)
    login_staff(client, auditor)
    assert client.get(BOARD).status_code == 403
    assert client.get(case_url(world.apps["a1"])).status_code == 403
    client.logout()
    client.force_login(world.resident)
    assert client.get(BOARD).status_code == 302  # to the staff login


def test_a_case_page_shows_the_answers_and_is_audited(world: World, client: Any) -> None:
    app = world.apps["a1"]
    login_staff(client, world.clerk_a)
    response = client.get(case_url(app))
    html = response.content.decode()
    assert response.status_code == 200
    assert "ポチ" in html and "柴犬" in html and "伊賀 花子" in html
    assert "平成2年4月1日" in html  # a 和暦 date field
    check(response, case_url(app))
    event = AuditEvent.objects.get(action="application.view")
    assert event.actor_id == world.clerk_a.pk
    assert event.subject_id == world.resident.pk
    assert event.target_id == str(app.pk)
    client.get(case_url(app))
    assert AuditEvent.objects.filter(action="application.view").count() == 2


def test_another_departments_case_is_403_and_a_draft_404(world: World, client: Any) -> None:
    login_staff(client, world.clerk_a)
    other = world.apps["b1"]
    assert client.get(case_url(other)).status_code == 403
    for name in ("procstaff:case_status", "procstaff:case_note", "procstaff:case_message"):
        assert client.post(case_url(other, name), {}).status_code == 403
    assert not AuditEvent.objects.filter(action="application.view").exists()
    draft = make_application(world.dog, world.resident, status=Status.DRAFT)
    assert client.get(case_url(draft)).status_code == 404


def test_changing_the_status_from_the_case_page(world: World, client: Any) -> None:
    app = world.apps["a1"]
    login_staff(client, world.clerk_a)
    url = case_url(app, "procstaff:case_status")
    response = client.post(url, {"status-to_status": Status.NEEDS_INFO, "status-message": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "error-summary" in html and 'href="#id_status-message"' in html
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED
    response = client.post(url, {"status-to_status": Status.APPROVED})  # not a next status
    assert response.status_code == 422
    response = client.post(
        url, {"status-to_status": Status.NEEDS_INFO, "status-message": "印鑑をお持ちください"}
    )
    assert response.status_code == 302 and response["Location"] == case_url(app)
    app.refresh_from_db()
    assert app.status == Status.NEEDS_INFO
    html = client.get(case_url(app)).content.decode()
    assert "印鑑をお持ちください" in html


def test_assign_note_and_message_from_the_case_page(world: World, client: Any) -> None:
    app = world.apps["a1"]
    login_staff(client, world.clerk_a)
    response = client.post(
        case_url(app, "procstaff:case_assign"), {"assign-assignee": world.clerk_a.pk}
    )
    assert response.status_code == 302
    response = client.post(
        case_url(app, "procstaff:case_assign"), {"assign-assignee": world.clerk_b.pk}
    )
    assert response.status_code == 422  # not a choice: staff of another department
    assert client.post(case_url(app, "procstaff:case_note"), {"note-text": ""}).status_code == 422
    client.post(case_url(app, "procstaff:case_note"), {"note-text": "内部メモ"})
    client.post(case_url(app, "procstaff:case_message"), {"message-text": "ご連絡です"})
    app.refresh_from_db()
    assert app.assignee_id == world.clerk_a.pk
    kinds = {e.kind: e for e in app.events.all()}
    assert not kinds[ApplicationEvent.Kind.NOTE].visible_to_resident
    assert kinds[ApplicationEvent.Kind.MESSAGE_TO_RESIDENT].visible_to_resident
    html = client.get(case_url(app)).content.decode()
    assert "内部メモ" in html and "ご連絡です" in html


def test_bulk_action_without_javascript(world: World, client: Any) -> None:
    second = make_application(world.dog, world.resident)
    approved = make_application(world.dog, world.resident, status=Status.APPROVED)
    login_staff(client, world.clerk_a)
    url = reverse("procstaff:board_bulk")
    response = client.post(
        url,
        {
            "ids": [world.apps["a1"].pk, second.pk, approved.pk],
            "action": "transition",
            "to_status": Status.RECEIVED,
            "filters": "status=submitted&status=approved",
        },
    )
    assert response.status_code == 422  # the approved one cannot: nothing changes
    assert "error-summary" in response.content.decode()
    assert not Application.objects.filter(status=Status.RECEIVED).exists()
    response = client.post(
        url,
        {
            "ids": [world.apps["a1"].pk, second.pk],
            "action": "assign_me",
            "filters": "via=online",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?via=online"
    assert Application.objects.filter(assignee=world.clerk_a).count() == 2
    assert client.post(url, {"action": "assign_me"}).status_code == 422  # nothing ticked
    response = client.post(url, {"ids": [world.apps["b1"].pk], "action": "assign_me"})
    assert response.status_code == 403


def _attachment(app: Application, settings: Any, tmp_path: Any) -> Attachment:
    settings.MEDIA_ROOT = str(tmp_path)
    content = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    attachment = Attachment(
        application=app,
        field_key="documents",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name="住民票.pdf",
    )
    attachment.file.save("upload.pdf", ContentFile(content), save=True)
    return attachment


def test_attachments_download_with_permission_and_audit(
    world: World, client: Any, settings: Any, tmp_path: Any
) -> None:
    app = world.apps["a1"]
    attachment = _attachment(app, settings, tmp_path)
    url = reverse("procstaff:case_attachment", args=[app.pk, attachment.pk])
    login_staff(client, world.clerk_a)
    assert url in client.get(case_url(app)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")
    event = AuditEvent.objects.filter(action="application.view").latest("seq")
    assert event.details["page"] == "attachment"
    assert event.details["attachment"] == attachment.pk
    assert event.subject_id == world.resident.pk
    # The wrong application in the URL, and another department's clerk.
    other = reverse("procstaff:case_attachment", args=[world.apps["b1"].pk, attachment.pk])
    assert client.get(other).status_code == 403
    client.logout()
    login_staff(client, world.clerk_b)
    assert client.get(url).status_code == 403
    assert (
        client.get(
            reverse("procstaff:case_attachment", args=[world.apps["b1"].pk, attachment.pk])
        ).status_code
        == 404
    )
