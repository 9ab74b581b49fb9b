"""The audit log is append-only and its HMAC chain shows any altered, removed or re-chained row."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from cityhall.core import audit
from cityhall.core.models import AuditEvent
from tests.conftest import lift_audit_triggers, restore_audit_triggers

pytestmark = pytest.mark.django_db(transaction=True)


def _events(n: int) -> list[AuditEvent]:
    return [audit.record("test.event", details={"n": i, "名前": "伊賀"}) for i in range(n)]


def test_chain_links_each_event_to_the_one_before() -> None:
    events = _events(3)
    assert events[0].prev_hash == audit.GENESIS
    assert events[1].prev_hash == events[0].hash
    assert [e.seq for e in events] == [1, 2, 3]
    result = audit.verify()
    assert result.ok and result.checked == 3


def test_model_refuses_update_and_delete() -> None:
    event = _events(1)[0]
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_database_refuses_update_and_delete_behind_the_orm() -> None:
    _events(1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(action="tampered")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == "test.event"


def test_verify_names_the_altered_row(capsys: Any) -> None:
    events = _events(5)
    lift_audit_triggers()
    try:
        AuditEvent.objects.filter(pk=events[2].pk).update(details={"n": 999})
    finally:
        restore_audit_triggers()
    result = audit.verify()
    assert not result.ok
    assert result.breaks[0].seq == 3
    assert "content changed" in result.breaks[0].reason
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("audit", "verify")
    assert "BROKEN at #3" in capsys.readouterr().out


def test_verify_finds_a_removed_row_and_a_truncated_tail() -> None:
    events = _events(5)
    lift_audit_triggers()
    try:
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    finally:
        restore_audit_triggers()
    result = audit.verify()
    assert [b.seq for b in result.breaks] == [3]
    assert "missing" in result.breaks[0].reason

    lift_audit_triggers()
    try:
        AuditEvent.objects.filter(pk=events[4].pk).delete()
    finally:
        restore_audit_triggers()
    assert not audit.verify().head_ok


def test_rechaining_without_the_key_is_detected(settings: Any) -> None:
    events = _events(3)
    lift_audit_triggers()
    try:
        # An attacker with database access recomputes the chain with a guessed key.
        settings.AUDIT_KEY = "guessed"
        target = AuditEvent.objects.get(pk=events[1].pk)
        target.details = {"n": "forged"}
        AuditEvent.objects.filter(pk=target.pk).update(
            details=target.details, hash=audit.compute_hash(target.prev_hash, target)
        )
    finally:
        restore_audit_triggers()
    settings.AUDIT_KEY = "x" * 44
    assert not audit.verify().ok


def test_verify_command_reports_intact(capsys: Any) -> None:
    _events(2)
    call_command("audit", "verify")
    assert "intact: 2 events" in capsys.readouterr().out
