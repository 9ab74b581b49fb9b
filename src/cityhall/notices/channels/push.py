"""Web Push: an encrypted message to each of the resident's browsers (RFC 8030/8291/8292).

Addresses are the resident's :class:`~cityhall.notices.models.PushSubscription` rows as
JSON strings (``{"endpoint", "p256dh", "auth"}``). For each one the payload — JSON
``{"title", "body", "url", "key", "urgent", "lang"}``, the body cut so the encrypted
message stays within the 4096 bytes every push service must accept — is encrypted with
:func:`~cityhall.notices.webpush.rfc8291.encrypt` and POSTed to the endpoint with:

- ``TTL``: a day for emergency alerts (stale after that), four weeks for the rest;
- ``Urgency``: ``high`` for alerts, else ``normal`` (RFC 8030 §5.3);
- ``Content-Encoding: aes128gcm``; ``Authorization: vapid t=…, k=…`` (RFC 8292);
- ``Topic`` when the item's ``extra["push_topic"]`` names one (a newer message with the
  same topic replaces an undelivered older one).

Answers: 201/202 accepted. 404/410: the subscription is gone — the row is deleted (with
an audit entry) and, when that leaves the resident no browser, the item fails for good.
429 and 5xx (and network errors): a passing failure, retried by the engine. Other 4xx
(a refused VAPID key, a payload too large): that browser refuses, for good.

An item is ``ok`` when at least one of the resident's browsers accepted it. Web push is
not idempotent (a message sent twice shows twice), so ``idempotent`` is ``False``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cityhall.core import audit
from cityhall.core.i18n import html_lang
from cityhall.notices.channels.base import Outcome, Outgoing
from cityhall.notices.channels.failover import FailoverSender
from cityhall.notices.models import EMERGENCY, PushSubscription
from cityhall.notices.services import push_keys
from cityhall.notices.webpush import rfc8291, vapid

log = logging.getLogger(__name__)

ALERT_TTL = 24 * 3600
DEFAULT_TTL = 28 * 24 * 3600
TIMEOUT = (5.0, 15.0)  # connect, read (seconds)
GONE = {404, 410}
ACCEPTED = {200, 201, 202}
_TOPIC_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def is_alert(item: Outgoing) -> bool:
    return item.urgent or item.topic == EMERGENCY


def payload(item: Outgoing, limit: int = rfc8291.MAX_PLAINTEXT) -> bytes:
    """The JSON the service worker shows, at most ``limit`` bytes (the body is cut)."""
    data: dict[str, Any] = {
        "title": item.subject[:200],
        "body": item.body,
        "url": item.url,
        "key": item.key,
        "urgent": bool(item.urgent),
        "lang": html_lang(item.language),
    }

    def encoded() -> bytes:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    raw = encoded()
    if len(raw) > limit:
        # The longest start of the body that fits, with "…" to show it was cut.
        low, high = 0, len(item.body)
        while low < high:
            middle = (low + high + 1) // 2
            data["body"] = item.body[:middle] + "…"
            if len(encoded()) <= limit:
                low = middle
            else:
                high = middle - 1
        data["body"] = item.body[:low] + "…" if low else ""
        raw = encoded()
    if len(raw) > limit:  # only with an absurd URL or title: drop the extras
        data["body"] = ""
        data["url"] = ""
        raw = encoded()
    return raw


def topic_header(item: Outgoing) -> str:
    topic = item.extra.get("push_topic", "")
    if topic and len(topic) <= 32 and set(topic) <= _TOPIC_ALPHABET:
        return topic
    return ""


@dataclass(slots=True)
class _Try:
    endpoint: str
    status: int  # 0: not sent (network error or bad subscription)
    ok: bool = False
    gone: bool = False
    passing: bool = False
    ref: str = ""
    error: str = ""


class WebPushProvider:
    """Posts to each subscription's own push service (one provider: the endpoints differ)."""

    name = "webpush"
    idempotent = False

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        key = push_keys.signing_key()
        if key is None:
            return [
                Outcome(item.key, False, self.name, permanent=True, error="web push is off")
                for item in batch
            ]
        session = self.session or requests.Session()
        headers_by_origin: dict[str, str] = {}
        outcomes: list[Outcome] = []
        succeeded: list[str] = []
        failed: list[str] = []
        try:
            for item in batch:
                tries = [
                    self._post(session, item, address, key, headers_by_origin)
                    for address in item.addresses
                ]
                succeeded += [t.endpoint for t in tries if t.ok]
                failed += [t.endpoint for t in tries if not t.ok and not t.gone and t.endpoint]
                gone = [t for t in tries if t.gone]
                if gone:
                    _forget(item.user_id, gone)
                outcomes.append(self._outcome(item, tries))
        finally:
            if self.session is None:
                session.close()
        now = timezone.now()
        if succeeded:
            PushSubscription.objects.filter(endpoint__in=succeeded).update(
                last_success_at=now, failures=0
            )
        if failed:
            PushSubscription.objects.filter(endpoint__in=failed).update(failures=F("failures") + 1)
        return outcomes

    def _post(
        self,
        session: requests.Session,
        item: Outgoing,
        address: str,
        key: Any,
        headers_by_origin: dict[str, str],
    ) -> _Try:
        try:
            sub = json.loads(address)
            endpoint = str(sub["endpoint"])
            body = rfc8291.encrypt(payload(item), str(sub["p256dh"]), str(sub["auth"]))
            origin = vapid.origin(endpoint)
        except (ValueError, KeyError, TypeError) as exc:
            return _Try("", 0, error=f"unusable subscription: {exc}"[:200])
        if origin not in headers_by_origin:
            headers_by_origin[origin] = vapid.vapid_header(
                endpoint, key, str(settings.VAPID_SUBJECT)
            )
        alert = is_alert(item)
        headers = {
            "TTL": str(ALERT_TTL if alert else DEFAULT_TTL),
            "Urgency": "high" if alert else "normal",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": headers_by_origin[origin],
        }
        topic = topic_header(item)
        if topic:
            headers["Topic"] = topic
        try:
            response = session.post(endpoint, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            return _Try(endpoint, 0, passing=True, error=f"{type(exc).__name__}: {exc}"[:200])
        status = response.status_code
        if status in ACCEPTED:
            return _Try(endpoint, status, ok=True, ref=response.headers.get("Location", "")[:200])
        reason = f"push service answered {status}"
        if status in GONE:
            return _Try(endpoint, status, gone=True, error=f"{reason}: subscription gone")
        if status == 429 or status >= 500:
            return _Try(endpoint, status, passing=True, error=reason)
        return _Try(endpoint, status, error=f"{reason}: {response.text[:120]}")

    def _outcome(self, item: Outgoing, tries: list[_Try]) -> Outcome:
        if not tries:
            return Outcome(item.key, False, self.name, permanent=True, error="no push subscription")
        accepted = [t for t in tries if t.ok]
        if accepted:
            return Outcome(item.key, True, self.name, provider_ref=accepted[0].ref)
        error = "; ".join(t.error for t in tries)[:400]
        if any(t.passing for t in tries):
            return Outcome(item.key, False, self.name, error=error)
        if (
            any(t.gone for t in tries)
            and PushSubscription.objects.filter(user_id=item.user_id).exists()
        ):
            # Another browser was added since the addresses were read: try again later.
            return Outcome(item.key, False, self.name, error=error)
        return Outcome(item.key, False, self.name, permanent=True, error=error)


def _forget(user_id: int, gone: list[_Try]) -> None:
    """Delete subscriptions the push service says are gone (404/410), with audit entries."""
    with transaction.atomic():
        for t in gone:
            row = PushSubscription.objects.filter(user_id=user_id, endpoint=t.endpoint).first()
            if row is None:
                continue
            pk = row.pk
            row.delete()
            audit.record(
                "notices.push_subscription_gone",
                target_type="notices.pushsubscription",
                target_id=pk,
                subject=user_id,
                details={"status": t.status},
            )


class PushSender(FailoverSender):
    channel = "push"

    def __init__(self, session: requests.Session | None = None) -> None:
        super().__init__([WebPushProvider(session)])

    def addresses(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        rows = (
            PushSubscription.objects.filter(user_id__in=list(user_ids))
            .order_by("id")
            .values_list("user_id", "endpoint", "p256dh", "auth")
        )
        for user_id, endpoint, p256dh, auth in rows:
            found.setdefault(user_id, []).append(
                json.dumps({"endpoint": endpoint, "p256dh": p256dh, "auth": auth})
            )
        return found
