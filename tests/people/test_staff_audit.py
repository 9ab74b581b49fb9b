"""The audit log page: newest first, filters, pages of 50, CSV export, the chain check."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from cityhall.core import audit
from cityhall.core.models import AuditEvent
from tests.conftest import lift_audit_triggers, make_resident, restore_audit_triggers
from tests.people.test_staff_support import as_staff, assert_error_summary, last_event, make_world

pytestmark = pytest.mark.django_db


def _rows(html: str) -> int:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return body.count("<tr>")


def _csv(response: object) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_newest_first_with_accessible_table() -> None:
    world = make_world()
    audit.record("test.first")
    audit.record("test.second")
    response = as_staff(world.auditor).get(reverse("staff:audit"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("test.second") < html.index("test.first")
    assert "<caption" in html and '<th scope="col">' in html and 'class="table-wrap"' in html
    assert html.count("<h1") == 1


def test_filters_by_action_actor_subject_target_and_dates() -> None:
    world = make_world()
    resident = make_resident()
    other = make_resident("taro@example.jp")
    audit.record("staff.resident_view", actor=world.clerk, target=resident, subject=resident)
    audit.record("staff.resident_view", actor=world.manager, target=other, subject=other)
    audit.record(
        "staff.department_update", actor=world.admin, target_type="people.department", target_id=3
    )
    client = as_staff(world.auditor)
    url = reverse("staff:audit")

    def count(**params: object) -> int:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return _rows(response.content.decode())

    assert count(action="staff.resident_view") == 2
    assert count(action="staff.") == 3  # a prefix
    assert count(actor="clerk@city.iga.example") == 1
    assert count(actor="CLERK@city.iga.example") == 1
    assert count(actor=str(world.manager.pk)) == 1
    assert count(subject=resident.pk) == 1
    assert count(target_type="people.department") == 1
    assert count(action="staff.resident_view", subject=other.pk) == 1
    today = timezone.localdate()
    assert count(action="staff.", date_from=today.isoformat(), date_to=today.isoformat()) == 3
    assert count(action="staff.", date_from=(today + dt.timedelta(days=1)).isoformat()) == 0
    assert count(action="staff.", date_to=(today - dt.timedelta(days=1)).isoformat()) == 0


def test_bad_filters_are_422_with_an_error_summary() -> None:
    world = make_world()
    client = as_staff(world.auditor)
    today = timezone.localdate()
    html = assert_error_summary(
        client.get(
            reverse("staff:audit"),
            {"date_from": today.isoformat(), "date_to": (today - dt.timedelta(days=2)).isoformat()},
        )
    )
    assert 'href="#id_date_to"' in html
    html = assert_error_summary(client.get(reverse("staff:audit"), {"subject": "abc"}))
    assert 'href="#id_subject"' in html
    response = client.get(reverse("staff:audit_csv"), {"date_from": "yesterday"})
    assert response.status_code == 422


def test_pages_of_fifty() -> None:
    world = make_world()
    for i in range(120):
        audit.record("test.bulk", details={"i": i})
    client = as_staff(world.auditor)
    html = client.get(reverse("staff:audit"), {"action": "test.bulk"}).content.decode()
    assert _rows(html) == 50
    assert "Page 1 of 3" in html
    assert "?action=test.bulk&amp;page=2" in html
    html = client.get(reverse("staff:audit"), {"action": "test.bulk", "page": 3}).content.decode()
    assert _rows(html) == 20
    assert "{&quot;i&quot;: 0}" in html


def test_csv_export_of_the_filtered_rows_is_audited_and_safe_for_spreadsheets() -> None:
    world = make_world()
    resident = make_resident()
    audit.record("staff.resident_view", actor=world.clerk, target=resident, subject=resident)
    audit.record("test.formula", details={"note": "x"}, target_type="=cmd|' /C calc'!A0")
    audit.record("test.other")
    response = as_staff(world.auditor).get(reverse("staff:audit_csv"), {"action": "test."})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:3] == ["seq", "created_at", "actor_id"]
    assert [row[5] for row in rows[1:]] == ["test.other", "test.formula"]
    formula = rows[2]
    assert formula[6].startswith("'=")  # target_type made inert for Excel
    export = last_event("staff.audit_export")
    assert export.actor_id == world.auditor.pk and export.details == {"action": "test."}

    rows = _csv(as_staff(world.admin).get(reverse("staff:audit_csv"), {"subject": resident.pk}))
    assert len(rows) == 2 and rows[1][8] == str(resident.pk)


def test_verify_button_shows_intact_then_the_broken_row() -> None:
    world = make_world()
    events = [audit.record("test.event", details={"n": i}) for i in range(4)]
    client = as_staff(world.auditor)
    assert client.get(reverse("staff:audit_verify")).status_code == 405
    html = client.post(reverse("staff:audit_verify")).content.decode()
    assert "Intact" in html and "Broken" not in html
    assert last_event("staff.audit_verify").details["ok"] is True

    lift_audit_triggers()
    try:
        AuditEvent.objects.filter(pk=events[2].pk).update(details={"n": 999})
    finally:
        restore_audit_triggers()
    response = client.post(reverse("staff:audit_verify"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Broken" in html and "content changed" in html
    assert f'<th scope="row">{events[2].seq}</th>' in html
    assert last_event("staff.audit_verify").details["ok"] is False
