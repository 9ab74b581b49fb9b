"""The reconciliation pages: upload → result, exceptions queue, decision, export, reminders,
the command line, and who may see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.payments.models import ImportedFile, ReconciliationLine
from cityhall.payments.services import ledger
from tests.conftest import login_staff, make_staff
from tests.payments.test_reconcile_support import agent_file, agent_row, slip, unknown_barcode

pytestmark = pytest.mark.django_db


@pytest.fixture
def shuno_client(client: Any) -> Any:
    client.cookies["cityhall_lang"] = "en"  # the tests read the pages' English text
    return login_staff(client, make_staff("shuno@city.iga.example", "clerk", "shuno"))


def upload(client: Any, data: bytes, kind: str = "agent") -> Any:
    return client.post(
        reverse("paystaff:reconcile"),
        {"kind": kind, "file": SimpleUploadedFile("agent.csv", data, content_type="text/csv")},
        follow=True,
    )


def test_upload_shows_the_outcomes_and_the_queue(shuno_client: Any) -> None:
    notice = slip()
    data = agent_file(
        agent_row("01", notice.cvs_barcode, 12_345), agent_row("01", unknown_barcode(), 500)
    )
    response = upload(shuno_client, data)
    assert response.status_code == 200
    page = response.content.decode()
    imported = ImportedFile.objects.get()
    assert response.redirect_chain[-1][0] == reverse("paystaff:reconcile_file", args=[imported.pk])
    assert "Paid at a store" in page and "Unknown code" in page
    assert notice.notice_number in page and "伊賀 花子" in page
    filtered = shuno_client.get(
        reverse("paystaff:reconcile_file", args=[imported.pk]), {"outcome": "unknown"}
    ).content.decode()
    assert "No slip has this code" in filtered and notice.notice_number not in filtered
    again = upload(shuno_client, data)
    assert "imported before" in again.content.decode()
    assert ImportedFile.objects.count() == 1
    queue = shuno_client.get(reverse("paystaff:exceptions")).content.decode()
    assert "No slip has this code" in queue
    assert AuditEvent.objects.filter(action="payments.exceptions_viewed").exists()
    listing = shuno_client.get(reverse("paystaff:reconcile")).content.decode()
    assert "agent.csv" in listing


def test_upload_form_errors(shuno_client: Any) -> None:
    response = shuno_client.post(reverse("paystaff:reconcile"), {"kind": "agent"})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()


def test_decision_form_requires_a_note_then_saves(shuno_client: Any) -> None:
    notice = slip()
    upload(shuno_client, agent_file(agent_row("03", notice.cvs_barcode, 12_345)))
    line = ReconciliationLine.objects.get(needs_review=True)
    url = reverse("paystaff:exception", args=[line.pk])
    page = shuno_client.get(url)
    assert page.status_code == 200 and "Save the decision" in page.content.decode()
    assert 'value="refund"' not in page.content.decode()  # a clerk cannot refund
    bad = shuno_client.post(url, {"resolution": "write_off", "note": ""})
    assert bad.status_code == 422 and 'id="error-summary"' in bad.content.decode()
    other = shuno_client.post(url, {"resolution": "book_other", "note": "x", "other_notice": "12"})
    assert other.status_code == 422
    ok = shuno_client.post(url, {"resolution": "write_off", "note": "Test row from the agent."})
    assert ok.status_code == 302
    line.refresh_from_db()
    assert line.resolution == "write_off"
    twice = shuno_client.post(url, {"resolution": "write_off", "note": "again"}, follow=True)
    assert "already been resolved" in twice.content.decode()
    assert AuditEvent.objects.filter(action="payments.exception_resolved").count() == 1


def test_revenue_export_download(shuno_client: Any) -> None:
    notice = slip()
    ledger.record_payment(
        notice=notice,
        amount_yen=12_345,
        channel="counter",
        state="final",
        paid_on=dt.date(2026, 6, 1),
    )
    url = reverse("paystaff:revenue")
    assert shuno_client.get(url).status_code == 200
    bad = shuno_client.get(
        url, {"date_from": "2026-06-02", "date_to": "2026-06-01", "encoding": "utf-8"}
    )
    assert bad.status_code == 422
    response = shuno_client.get(
        url, {"date_from": "2026-06-01", "date_to": "2026-06-30", "encoding": "cp932"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "12345" in response.content.decode("cp932")


def test_reminders_page(shuno_client: Any) -> None:
    from cityhall.payments.services import reminders

    reminders.register_reminder_sender(None)
    notice = slip()
    reminders.queue_overdue(dt.date(2026, 8, 1))
    page = shuno_client.get(reverse("paystaff:reminders")).content.decode()
    assert notice.installment.charge.reference in page
    assert shuno_client.get(reverse("paystaff:reminders"), {"state": "sent"}).status_code == 200


@pytest.mark.parametrize("name", ["reconcile", "exceptions", "revenue", "reminders"])
def test_other_departments_are_refused(client: Any, name: str) -> None:
    login_staff(client, make_staff("suido@city.iga.example", "clerk", "suido"))
    assert client.get(reverse(f"paystaff:{name}")).status_code == 403


def test_residents_never_get_in(resident_client: Any) -> None:
    response = resident_client.get(reverse("paystaff:exceptions"))
    assert response.status_code in (302, 403, 404)


def test_command_line(tmp_path: Any, capsys: Any) -> None:
    notice = slip()
    path = tmp_path / "agent.csv"
    path.write_bytes(agent_file(agent_row("02", notice.cvs_barcode, 12_345)))
    call_command("reconcile", str(path), "--kind", "agent")
    out = capsys.readouterr().out
    assert "final: 1" in out and "1 rows" in out
