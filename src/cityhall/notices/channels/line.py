"""LINE Messaging API: push to one resident, multicast to many with the same text.

- ``POST /v2/bot/message/push`` for a single item, ``POST /v2/bot/message/multicast``
  (at most 500 user ids per request) when several items of a batch carry the same text.
- ``Authorization: Bearer <channel access token>``; ``X-Line-Retry-Key``: the delivery key
  for a push, a UUID made from the sorted delivery keys for a multicast, so a request
  sent again after a lost answer is not delivered twice. LINE answers an already
  accepted retry key with 409 and ``x-line-accepted-request-id``: that is success.
- 429 (rate or monthly limit): a passing failure for that request and the rest of the
  batch, and this worker waits (``Retry-After``, else one second) before its next request;
  5xx, timeouts and connection errors: :class:`~.base.ProviderDown`; 400 and other 4xx:
  a permanent failure of that request's items.
- The text is subject, body and link, at most 5,000 characters (UTF-16 code units, as
  LINE counts), the body cut at a line or sentence end with "…" when too long.

:func:`verify_signature` checks a webhook's ``x-line-signature`` (base64 HMAC-SHA256 of
the body with the channel secret, compared in constant time); :func:`handle_events` acts
on ``follow``/``unfollow`` (:func:`mark_followed` / :func:`mark_blocked`).

The LINE Login channel used for linking and the Messaging API channel must belong to the
same LINE provider, so the user id LINE Login gives is the one the bot can push to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cityhall.core import audit
from cityhall.notices.channels.base import Outcome, Outgoing, ProviderDown
from cityhall.notices.channels.failover import FailoverSender, PartialProviderDown, TokenBucket

log = logging.getLogger(__name__)

PUSH_PATH = "/v2/bot/message/push"
MULTICAST_PATH = "/v2/bot/message/multicast"
MAX_TEXT = 5000
MAX_MULTICAST = 500
TIMEOUT = (5, 20)  # connect, read (seconds)
ELLIPSIS = "…"
_RETRY_NAMESPACE = uuid.UUID("6f1f8c3e-3c54-4f0e-9f55-0b1d1c9a4c11")
_BREAK = re.compile(r"[\n。．！？!?]|\.\s")


def text_length(text: str) -> int:
    """Length as LINE counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, budget: int) -> str:
    """``text`` within ``budget`` UTF-16 units, ending at a line or sentence end when one is
    in the last half, with "…" when anything was cut."""
    if text_length(text) <= budget:
        return text
    if budget <= 1:
        return ELLIPSIS[:budget]
    room = budget - 1
    end = 0
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            break
        end = index + 1
    head = text[:end]
    best = -1
    for match in _BREAK.finditer(head):
        best = match.end()
    if best >= len(head) // 2:
        head = head[:best]
    return head.rstrip() + ELLIPSIS


def compose(item: Outgoing) -> str:
    """The LINE text of one item: subject, body, link; at most 5,000 characters."""
    subject = item.subject.strip()
    body = item.body.strip()
    url = item.url.strip()
    tail = f"\n\n{url}" if url else ""
    subject = _cut(subject, min(200, MAX_TEXT - text_length(tail) - 2))
    head = f"{subject}\n\n" if subject else ""
    budget = MAX_TEXT - text_length(head) - text_length(tail)
    return head + _cut(body, budget) + tail


def retry_key(keys: Sequence[str]) -> str:
    if len(keys) == 1:
        return str(uuid.UUID(str(keys[0])))
    return str(uuid.uuid5(_RETRY_NAMESPACE, ",".join(sorted(keys))))


def verify_signature(body: bytes, signature: str, secret: str | None = None) -> bool:
    """Whether ``signature`` is base64(HMAC-SHA256(channel secret, body))."""
    secret = settings.LINE_CHANNEL_SECRET if secret is None else secret
    if not secret or not signature:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))


def mark_blocked(line_user_id: str) -> bool:
    """LINE said the user blocked (unfollowed) the account: stop pushing to them."""
    from cityhall.notices.models import LineLink

    with transaction.atomic():
        link = (
            LineLink.objects.select_for_update()
            .filter(line_user_id=line_user_id, blocked_at__isnull=True)
            .first()
        )
        if link is None:
            return False
        link.blocked_at = timezone.now()
        link.save(update_fields=["blocked_at"])
        audit.record("notices.line_blocked", target=link, subject=link.user_id)
    return True


def mark_followed(line_user_id: str) -> bool:
    """The user (re)added the account as a friend: pushing works again."""
    from cityhall.notices.models import LineLink

    with transaction.atomic():
        link = (
            LineLink.objects.select_for_update()
            .filter(line_user_id=line_user_id, blocked_at__isnull=False)
            .first()
        )
        if link is None:
            return False
        link.blocked_at = None
        link.save(update_fields=["blocked_at"])
        audit.record("notices.line_followed", target=link, subject=link.user_id)
    return True


def handle_events(payload: Any) -> dict[str, int]:
    """Act on a webhook's events; answers how many of each kind changed something."""
    counts = {"blocked": 0, "followed": 0, "ignored": 0}
    events = payload.get("events", []) if isinstance(payload, dict) else []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        source = event.get("source") or {}
        user_id = source.get("userId") if isinstance(source, dict) else None
        kind = event.get("type")
        if kind == "unfollow" and isinstance(user_id, str) and mark_blocked(user_id):
            counts["blocked"] += 1
        elif kind == "follow" and isinstance(user_id, str) and mark_followed(user_id):
            counts["followed"] += 1
        else:
            counts["ignored"] += 1
    return counts


def _error(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
    message = data.get("message", "") if isinstance(data, dict) else ""
    details = data.get("details") if isinstance(data, dict) else None
    if details:
        message += " " + "; ".join(
            f"{d.get('property', '')}: {d.get('message', '')}"
            for d in details
            if isinstance(d, dict)
        )
    return f"{response.status_code} {message}".strip()[:400]


class LineApiProvider:
    name = "line"
    idempotent = True

    def __init__(self, bucket: TokenBucket, *, base_url: str = "", token: str = "") -> None:
        self.bucket = bucket
        self.base_url = (base_url or settings.LINE_API_URL).rstrip("/")
        self.token = token or settings.LINE_CHANNEL_ACCESS_TOKEN

    def _requests(self, batch: Sequence[Outgoing]) -> list[tuple[str, list[Outgoing]]]:
        """(text, items) per request: same text → multicast in chunks of 500."""
        groups: dict[str, list[Outgoing]] = {}
        for item in batch:
            groups.setdefault(compose(item), []).append(item)
        planned: list[tuple[str, list[Outgoing]]] = []
        for text, items in groups.items():
            for start in range(0, len(items), MAX_MULTICAST):
                planned.append((text, items[start : start + MAX_MULTICAST]))
        return planned

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        sendable: list[Outgoing] = []
        for item in batch:
            if item.addresses:
                sendable.append(item)
            else:
                outcomes.append(
                    Outcome(item.key, False, self.name, permanent=True, error="no LINE link")
                )
        planned = self._requests(sendable)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
        }
        with requests.Session() as session:
            for index, (text, items) in enumerate(planned):
                keys = [item.key for item in items]
                messages = [{"type": "text", "text": text}]
                if len(items) == 1:
                    path = PUSH_PATH
                    body: dict[str, Any] = {"to": items[0].addresses[0], "messages": messages}
                else:
                    path = MULTICAST_PATH
                    body = {"to": [item.addresses[0] for item in items], "messages": messages}
                self.bucket.take()
                try:
                    response = session.post(
                        self.base_url + path,
                        json=body,
                        headers={**headers, "X-Line-Retry-Key": retry_key(keys)},
                        timeout=TIMEOUT,
                    )
                except requests.RequestException as exc:
                    raise PartialProviderDown(f"{type(exc).__name__}: {exc}", outcomes) from exc
                status = response.status_code
                if status == 200 or (
                    status == 409 and response.headers.get("x-line-accepted-request-id")
                ):
                    accepted = response.headers.get("x-line-accepted-request-id", "")
                    ref = accepted or response.headers.get("x-line-request-id", "")
                    outcomes += [Outcome(key, True, self.name, provider_ref=ref) for key in keys]
                elif status == 429:
                    retry_after = response.headers.get("Retry-After", "")
                    self.bucket.pause(float(retry_after) if retry_after.isdigit() else 1.0)
                    error = "rate limited: " + _error(response)
                    rest = [item.key for _text, later in planned[index:] for item in later]
                    outcomes += [Outcome(key, False, self.name, error=error) for key in rest]
                    break
                elif status >= 500 or status == 401:
                    raise PartialProviderDown(_error(response), outcomes)
                else:
                    error = _error(response)
                    outcomes += [
                        Outcome(key, False, self.name, permanent=status != 409, error=error)
                        for key in keys
                    ]
        return outcomes


class LineSender(FailoverSender):
    channel = "line"

    def __init__(self, *, bucket: TokenBucket | None = None) -> None:
        #: One token per API request (``LINE_RATE`` a second; 0: no limit).
        self.bucket = bucket or TokenBucket(settings.LINE_RATE)
        super().__init__([LineApiProvider(self.bucket)])

    def addresses(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        from cityhall.notices.models import LineLink

        links = LineLink.objects.filter(
            user_id__in=list(user_ids), blocked_at__isnull=True
        ).values_list("user_id", "line_user_id")
        return {user_id: [line_user_id] for user_id, line_user_id in links}


__all__ = [
    "LineApiProvider",
    "LineSender",
    "ProviderDown",
    "compose",
    "handle_events",
    "mark_blocked",
    "mark_followed",
    "verify_signature",
]
