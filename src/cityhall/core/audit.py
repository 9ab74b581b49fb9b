"""The audit log service: append an event, verify the chain.

``record`` is the only way to write the log. It runs inside the caller's
transaction, locks the chain head, and appends ``hash = HMAC-SHA256(key,
prev_hash + canonical(event))``. ``verify`` walks the log in order and reports
the first row whose stored hash, link or content no longer matches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from cityhall.core.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _canonical(event: AuditEvent) -> bytes:
    created = event.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    payload = {
        "seq": event.seq,
        "created_at": created,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "actor_kind": event.actor_kind,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "subject_id": event.subject_id,
        "ip_address": event.ip_address,
        "details": event.details,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    key = str(settings.AUDIT_KEY).encode()
    return hmac.new(key, prev_hash.encode() + b"|" + _canonical(event), hashlib.sha256).hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _actor(request: HttpRequest | None, actor: Any) -> tuple[int | None, str, str]:
    user = actor if actor is not None else getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return (
            None,
            "",
            AuditEvent.ActorKind.SYSTEM if request is None else AuditEvent.ActorKind.ANONYMOUS,
        )
    kind = AuditEvent.ActorKind.STAFF if user.is_staff else AuditEvent.ActorKind.RESIDENT
    return user.pk, user.email, kind


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    subject: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. ``subject`` is the resident (user or id) whose data is concerned."""
    actor_id, actor_label, actor_kind = _actor(request, actor)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target.pk
    subject_id = getattr(subject, "pk", subject)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS}
        )
        event = AuditEvent(
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_label=actor_label,
            actor_kind=actor_kind,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id != "" else "",
            subject_id=subject_id,
            ip_address=client_ip(request),
            details=json.loads(json.dumps(details or {}, default=str)),
            seq=head.count + 1,
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(head.last_hash, event)
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


@dataclass
class Break:
    seq: int
    event_id: int
    reason: str


@dataclass
class VerifyResult:
    checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    head_ok: bool = True

    @property
    def ok(self) -> bool:
        return not self.breaks and self.head_ok


def _events(batch: int = 2000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(stop_at_first: bool = False) -> VerifyResult:
    """Recompute the chain from the first event; list every row that does not fit."""
    result = VerifyResult()
    prev = GENESIS
    for event in _events():
        result.checked += 1
        if event.seq != result.checked:
            result.breaks.append(
                Break(event.seq, event.id, f"rows missing: expected #{result.checked} here")
            )
            result.checked = event.seq
        elif event.prev_hash != prev:
            result.breaks.append(
                Break(event.seq, event.id, "link broken: prev_hash does not match the row before")
            )
        elif compute_hash(prev, event) != event.hash:
            result.breaks.append(
                Break(event.seq, event.id, "content changed: hash does not match the row")
            )
        if result.breaks and stop_at_first:
            return result
        prev = event.hash
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != prev or head.count != result.checked):
        # Rows were removed from the end, or the head itself was changed.
        result.head_ok = False
    return result
