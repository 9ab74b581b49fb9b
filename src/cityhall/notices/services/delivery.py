"""The delivery engine: deliveries are inserted fast, claimed in batches, sent at most once.

A :class:`~cityhall.notices.models.Delivery` row moves::

    queued ──claim──▶ claimed ──(committed before the provider is called)──▶ sending
    sending ──▶ sent | failed | queued (retry, back-off) ; sent ──▶ opened

- :func:`insert_deliveries` writes the rows of a fan-out with one prepared multi-row
  INSERT (``executemany``; ``COPY`` on PostgreSQL): 83,335 residents in seconds.
- :func:`send_pending` claims up to ``batch`` due rows in one statement (``UPDATE … WHERE
  id IN (SELECT … LIMIT n)``, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that workers
  never wait on each other), looks the addresses up once per batch, and sends in small
  sub-batches. Each sub-batch is marked ``sending`` and committed *before* the provider
  is called, so a worker that dies leaves a trace of what it may have sent.
- :func:`recover_stale` (run at the start of every :func:`send_pending` and by
  ``cityhall send_notices``) puts rows a dead worker had only *claimed* back in the queue
  (they were never tried) and marks rows it was *sending* ``unknown`` — never sent twice —
  unless the channel is idempotent (LINE's retry key, the inbox's unique source key), in
  which case they are queued again.
- :func:`purge` keeps the counts on the message (``stats``) and deletes old rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, connections, router, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cityhall.core import audit
from cityhall.core.http import absolute_url
from cityhall.notices import templating
from cityhall.notices.channels.base import Outcome, Outgoing, ProviderDown
from cityhall.notices.models import (
    EMERGENCY,
    PERSONAL,
    Delivery,
    DeliveryPreferences,
    InboxItem,
    Message,
)
from cityhall.notices.services import common
from cityhall.people.models import Consent, Interest, ResidentProfile, User

log = logging.getLogger(__name__)

#: Deliveries handed to a provider at once; each sub-batch is marked ``sending`` first,
#: so at most this many rows can end up ``unknown`` when a worker dies.
SUB_BATCH = 50

#: Rows that still have to be sent (a message is done when none of its rows is in these).
OPEN_STATES = (Delivery.State.QUEUED, Delivery.State.CLAIMED, Delivery.State.SENDING)

_INTEREST_TOPICS = frozenset(Interest.values)


# --- inserting a fan-out ---------------------------------------------------------------------


class Target(NamedTuple):
    """One delivery to create: a resident on a channel, in a language (a plain tuple
    ``(user_id, channel, language)``, as :func:`segments.reachable` gives, will do)."""

    user_id: int
    channel: str
    language: str


_COLUMNS = (
    "key",
    "message_id",
    "user_id",
    "channel",
    "language",
    "state",
    "attempts",
    "next_attempt_at",
    "claim",
    "claimed_at",
    "sent_at",
    "opened_at",
    "provider",
    "provider_ref",
    "error",
)


#: Rows per INSERT statement on SQLite (15 values each: well under its 32,766 variables).
_ROWS_PER_INSERT = 100


def _uuid4_hex() -> str:
    """A random (version 4) UUID as 32 hex digits: how Django stores a UUIDField on SQLite,
    and text PostgreSQL's ``uuid`` type reads (COPY). ``uuid.uuid4().hex`` without the
    object, for the hundred thousand keys of a fan-out."""
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
    return f"{value:032x}"


def insert_deliveries(
    message: Message,
    targets: Iterable[tuple[int, str, str]],
    *,
    now: dt.datetime | None = None,
    quiet: dict[int, dt.datetime] | None = None,
    chunk: int = 10_000,
) -> int:
    """Insert one queued delivery per target with plain multi-row INSERTs (no ORM objects).

    ``quiet`` maps a user id to the end of their quiet hours: their rows wait until then.
    Values are prepared by the model's own fields (UUIDs, datetimes), so the rows are the
    same as the ORM would write, on SQLite and on PostgreSQL.
    """
    now = now or timezone.now()
    quiet = quiet or {}
    # The real connection, not the thread-local proxy (looked up once, not per value).
    db = connections[router.db_for_write(Delivery)]
    fields = {f.attname: f for f in Delivery._meta.concrete_fields}
    quote = db.ops.quote_name
    table = quote(Delivery._meta.db_table)
    columns = ", ".join(quote(str(fields[name].column)) for name in _COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    postgres = db.vendor == "postgresql"
    times: dict[dt.datetime, Any] = {}
    prep_time = fields["next_attempt_at"].get_db_prep_save

    def when(value: dt.datetime) -> Any:
        prepared = times.get(value)
        if prepared is None:
            prepared = times[value] = prep_time(value, db)
        return prepared

    prepared_now = when(now)
    state = Delivery.State.QUEUED.value
    message_id = message.pk
    rows: list[tuple[Any, ...]] = []
    total = 0

    def flush() -> None:
        if not rows:
            return
        with db.cursor() as cursor:
            raw = getattr(cursor, "cursor", cursor)
            if postgres and hasattr(raw, "copy"):
                # Errors (a duplicate …) come out as Django's, like the ORM's.
                with (
                    db.wrap_database_errors,
                    raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,  # psycopg 3
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                # Several rows per statement (fewer steps through the driver), the
                # statement run again for each full group; the rest in one more statement.
                # Only quoted identifiers from the model's metadata go into the text.
                full = len(rows) - len(rows) % _ROWS_PER_INSERT
                if full:
                    cursor.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                        + ", ".join([f"({marks})"] * _ROWS_PER_INSERT),
                        [
                            [v for row in rows[i : i + _ROWS_PER_INSERT] for v in row]
                            for i in range(0, full, _ROWS_PER_INSERT)
                        ],
                    )
                if full < len(rows):
                    rest = rows[full:]
                    cursor.execute(
                        f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                        + ", ".join([f"({marks})"] * len(rest)),
                        [v for row in rest for v in row],
                    )
        rows.clear()

    for user_id, channel, language in targets:
        later = quiet.get(user_id)
        rows.append(
            (
                _uuid4_hex(),
                message_id,
                user_id,
                channel,
                language,
                state,
                0,
                when(later) if later is not None else prepared_now,
                "",
                None,
                None,
                None,
                "",
                "",
                "",
            )
        )
        total += 1
        if len(rows) >= chunk:
            flush()
    flush()
    return total


def quiet_ends(
    user_ids: Iterable[int] | None = None, at: dt.datetime | None = None
) -> dict[int, dt.datetime]:
    """Residents whose quiet hours hold at ``at``, with the moment they end."""
    wanted = None if user_ids is None else set(user_ids)
    out: dict[int, dt.datetime] = {}
    rows = DeliveryPreferences.objects.filter(
        quiet_start__isnull=False, quiet_end__isnull=False
    ).values_list("user_id", "quiet_start", "quiet_end")
    for user_id, start, end in rows.iterator(chunk_size=5000):
        if wanted is not None and user_id not in wanted:
            continue
        until = common.quiet_until(start, end, at)
        if until is not None:
            out[user_id] = until
    return out


# --- claiming and sending --------------------------------------------------------------------


def _field(name: str) -> Any:
    return next(f for f in Delivery._meta.concrete_fields if f.attname == name)


def _table() -> str:
    return connection.ops.quote_name(Delivery._meta.db_table)


def _claim(channel: str | None, n: int, now: dt.datetime) -> tuple[str, list[int]]:
    """Take up to ``n`` due queued rows for this worker; committed when it returns."""
    token = uuid.uuid4().hex
    db_now = _field("next_attempt_at").get_db_prep_save(now, connection)
    where = "state = %s AND next_attempt_at <= %s"
    params: list[Any] = [Delivery.State.QUEUED.value, db_now]
    if channel:
        where += " AND channel = %s"
        params.append(channel)
    table = _table()
    # Only the quoted table name goes into the text; every value is bound.
    if connection.vendor == "postgresql":
        # A materialised CTE is evaluated once (an IN (… LIMIT n) subquery may be run again
        # by the planner and take more than n), and SKIP LOCKED lets workers pass each other.
        sql = (
            f"WITH picked AS MATERIALIZED (SELECT id FROM {table} WHERE {where} "  # noqa: S608
            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
            f"UPDATE {table} AS d SET state = %s, claim = %s, claimed_at = %s "
            "FROM picked WHERE d.id = picked.id"
        )
        values = [*params, n, Delivery.State.CLAIMED.value, token, db_now]
    else:
        # SQLite: one writer at a time (BEGIN IMMEDIATE), the subquery runs once.
        sql = (
            f"UPDATE {table} SET state = %s, claim = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id IN (SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT %s) "
            "AND state = %s"
        )
        values = [
            Delivery.State.CLAIMED.value,
            token,
            db_now,
            *params,
            n,
            Delivery.State.QUEUED.value,
        ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            if cursor.rowcount == 0:
                return token, []
        ids = list(Delivery.objects.filter(claim=token).order_by("id").values_list("id", flat=True))
    return token, ids


@dataclass(slots=True)
class _Row:
    id: int
    key: str
    message_id: int
    user_id: int
    channel: str
    language: str
    attempts: int


class _Context:
    """What a batch needs, looked up once: messages, names, links, consents."""

    def __init__(self) -> None:
        self.messages: dict[int, Message] = {}
        self.article_urls: dict[int, str] = {}
        self.default_names: dict[str, str] = {}
        self.texts: dict[tuple[int, str], list[tuple[str, set[str], bool]]] = {}
        self._mypage: str | None = None

    def message(self, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None:
            message = Message.objects.select_related("article").get(pk=message_id)
            self.messages[message_id] = message
        return message

    def url(self, message: Message) -> str:
        if message.article_id and message.article is not None:
            found = self.article_urls.get(message.pk)
            if found is None:
                found = absolute_url(reverse("notices:article", args=[message.article.slug]))
                self.article_urls[message.pk] = found
            return found
        if self._mypage is None:
            self._mypage = absolute_url(reverse("portal:mypage"))
        return self._mypage

    def render(self, message: Message, language: str, name: str) -> tuple[str, str]:
        """Subject and body in ``language`` (else Japanese) with ``((name))`` filled."""
        parts = self.texts.get((message.pk, language))
        if parts is None:
            content = message.content.get(language) or message.content.get("ja") or {}
            parts = []
            for text in (str(content.get("subject", "")), str(content.get("body", ""))):
                # Any placeholder other than ((name)) was filled when the message was made;
                # one left over stays as it is rather than stopping the batch.
                others = templating.placeholders(text) - {"name"}
                parts.append((text, others, "name" in templating.placeholders(text)))
            self.texts[(message.pk, language)] = parts
        out = [
            templating.fill(text, {"name": name}, keep=others) if has_name else text
            for text, others, has_name in parts
        ]
        return out[0], out[1]

    def default_name(self, language: str) -> str:
        name = self.default_names.get(language)
        if name is None:
            with translation.override(language):
                name = self.default_names[language] = gettext("Resident")
        return name


def _still_wanted(rows: Sequence[_Row], ctx: _Context) -> set[int]:
    """Delivery ids whose resident still consents, still follows the topic and still has the
    channel — checked again at sending time (quiet hours, retries and schedules delay)."""
    user_ids = {r.user_id for r in rows}
    latest: dict[tuple[int, str], bool] = {}
    for user_id, purpose, granted in (
        Consent.objects.filter(user_id__in=user_ids, purpose__in=["notify", "emergency"])
        .order_by("created_at", "id")
        .values_list("user_id", "purpose", "granted")
    ):
        latest[(user_id, purpose)] = granted
    profiles = {
        user_id: (interests or [], channels or [])
        for user_id, interests, channels in ResidentProfile.objects.filter(
            user_id__in=user_ids
        ).values_list("user_id", "interests", "channels")
    }
    active = set(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    muted = {
        user_id: topics or []
        for user_id, topics in DeliveryPreferences.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "muted_topics"
        )
    }
    ok: set[int] = set()
    for row in rows:
        message = ctx.message(row.message_id)
        if row.user_id not in active:
            continue
        if message.kind == Message.Kind.EMERGENCY or message.topic == EMERGENCY:
            if latest.get((row.user_id, "emergency")):
                ok.add(row.id)
            continue
        if not latest.get((row.user_id, "notify")):
            continue
        interests, channels = profiles.get(row.user_id, ([], []))
        if row.channel not in channels:
            continue
        if message.topic in _INTEREST_TOPICS and message.topic not in interests:
            continue
        if message.topic == PERSONAL and PERSONAL in muted.get(row.user_id, []):
            continue
        ok.add(row.id)
    return ok


def _outgoing(
    rows: Sequence[_Row],
    addresses: dict[int, list[str]],
    names: dict[int, str],
    ctx: _Context,
) -> list[Outgoing]:
    items: list[Outgoing] = []
    for row in rows:
        message = ctx.message(row.message_id)
        name = names.get(row.user_id) or ctx.default_name(row.language)
        subject, body = ctx.render(message, row.language, name)
        emergency = message.kind == Message.Kind.EMERGENCY
        items.append(
            Outgoing(
                key=row.key,
                delivery_id=row.id,
                message_id=row.message_id,
                user_id=row.user_id,
                channel=row.channel,
                addresses=list(addresses.get(row.user_id, [])),
                language=row.language,
                subject=subject,
                body=body,
                url=ctx.url(message),
                unsubscribe_url=(
                    ""
                    if emergency
                    else common.unsubscribe_url(row.user_id, message.topic, row.channel)
                ),
                topic=message.topic,
                urgent=emergency,
                extra={"level": message.level} if message.level else {},
            )
        )
    return items


def _backoff(attempts: int) -> dt.timedelta:
    """Wait before try ``attempts + 1``: doubling from the base, with up to 20 % jitter."""
    base = float(settings.NOTICES_RETRY_SECONDS) * (2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=base * (1 + random.random() * 0.2))


def _set_state(ids: Sequence[int], **changes: Any) -> int:
    if not ids:
        return 0
    return Delivery.objects.filter(pk__in=list(ids)).update(**changes)


def _record_outcomes(rows: Sequence[_Row], outcomes: dict[str, Outcome]) -> Counter[str]:
    """Write each row's outcome (one statement per distinct shape, one transaction)."""
    now = timezone.now()
    tally: Counter[str] = Counter()
    sent: list[tuple[Any, ...]] = []
    retry: list[tuple[Any, ...]] = []
    failed: list[tuple[Any, ...]] = []
    max_attempts = int(settings.NOTICES_MAX_ATTEMPTS)
    for row in rows:
        outcome = outcomes.get(row.key)
        attempts = row.attempts + 1
        if outcome is None:
            # The sender gave no answer for it: we cannot know, so never again.
            failed.append(
                (Delivery.State.UNKNOWN.value, attempts, "", "no outcome from the sender", row.id)
            )
            tally["unknown"] += 1
        elif outcome.ok:
            sent.append((attempts, outcome.provider[:32], outcome.provider_ref[:200], row.id))
            tally["sent"] += 1
        elif outcome.error.startswith("outcome unknown"):
            # The provider may have taken it (a connection broke mid-message): never again.
            failed.append(
                (
                    Delivery.State.UNKNOWN.value,
                    attempts,
                    outcome.provider[:32],
                    outcome.error[:400],
                    row.id,
                )
            )
            tally["unknown"] += 1
        elif outcome.permanent or attempts >= max_attempts:
            failed.append(
                (
                    Delivery.State.FAILED.value,
                    attempts,
                    outcome.provider[:32],
                    outcome.error[:400],
                    row.id,
                )
            )
            tally["failed"] += 1
        else:
            retry.append(
                (
                    attempts,
                    now + _backoff(attempts),
                    outcome.provider[:32],
                    outcome.error[:400],
                    row.id,
                )
            )
            tally["retry"] += 1
    prep_dt = _field("sent_at").get_db_prep_save
    table = _table()
    with transaction.atomic(), connection.cursor() as cursor:
        if sent:
            cursor.executemany(
                f"UPDATE {table} SET state = %s, attempts = %s, sent_at = %s, provider = %s, "  # noqa: S608
                "provider_ref = %s, error = '', claim = '' WHERE id = %s",
                [
                    (Delivery.State.SENT.value, a, prep_dt(now, connection), p, r, i)
                    for a, p, r, i in sent
                ],
            )
        if failed:
            cursor.executemany(
                f"UPDATE {table} SET state = %s, attempts = %s, provider = %s, error = %s, "  # noqa: S608
                "claim = '' WHERE id = %s",
                failed,
            )
        if retry:
            cursor.executemany(
                f"UPDATE {table} SET state = %s, attempts = %s, next_attempt_at = %s, "  # noqa: S608
                "provider = %s, error = %s, claim = '', claimed_at = NULL WHERE id = %s",
                [
                    (Delivery.State.QUEUED.value, a, prep_dt(t, connection), p, e, i)
                    for a, t, p, e, i in retry
                ],
            )
    return tally


def _send_batch(rows: list[_Row], ctx: _Context) -> Counter[str]:
    from cityhall.notices import channels

    tally: Counter[str] = Counter()
    wanted = _still_wanted(rows, ctx)
    dropped = [r.id for r in rows if r.id not in wanted]
    if dropped:
        _set_state(
            dropped,
            state=Delivery.State.SKIPPED,
            claim="",
            error="no longer consented or subscribed",
        )
        tally["skipped"] += len(dropped)
    by_channel: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.id in wanted:
            by_channel[row.channel].append(row)
    user_ids = list({r.user_id for r in rows if r.id in wanted})
    names = dict(
        User.objects.filter(pk__in=user_ids)
        .exclude(display_name="")
        .values_list("pk", "display_name")
    )
    for channel, channel_rows in by_channel.items():
        sender = channels.sender(channel)
        addresses = sender.addresses([r.user_id for r in channel_rows])
        unreachable = {r.id for r in channel_rows if r.user_id not in addresses}
        if unreachable:
            _set_state(
                list(unreachable),
                state=Delivery.State.SKIPPED,
                claim="",
                error="not reachable on this channel",
            )
            tally["skipped"] += len(unreachable)
        todo = [r for r in channel_rows if r.id not in unreachable]
        for start in range(0, len(todo), SUB_BATCH):
            part = todo[start : start + SUB_BATCH]
            items = _outgoing(part, addresses, names, ctx)
            # Committed before the provider is called: a worker that dies from here on
            # leaves these rows 'sending', and recover_stale never sends them twice.
            with transaction.atomic():
                _set_state(
                    [r.id for r in part], state=Delivery.State.SENDING, claimed_at=timezone.now()
                )
            try:
                outcomes = sender.send(items)
            except ProviderDown as exc:
                # No provider could be tried: nothing went out; a passing failure.
                error = str(exc)[:400] or "provider down"
                down = {r.key: Outcome(key=r.key, ok=False, provider="", error=error) for r in part}
                tally.update(_record_outcomes(part, down))
                continue
            except Exception as exc:
                log.exception("channel %s failed while sending", channel)
                state = Delivery.State.QUEUED if sender.idempotent else Delivery.State.UNKNOWN
                _set_state(
                    [r.id for r in part],
                    state=state,
                    claim="",
                    error=f"sender error: {exc}"[:400],
                )
                tally["unknown" if state == Delivery.State.UNKNOWN else "retry"] += len(part)
                continue
            tally.update(_record_outcomes(part, {o.key: o for o in outcomes}))
    return tally


def send_pending(
    *,
    channel: str | None = None,
    batch: int | None = None,
    worker: str = "",
    limit: int | None = None,
) -> int:
    """Send due deliveries (of one channel, or all) until none is due or ``limit`` were taken.

    Returns the number of deliveries this call handled (sent, failed, retried, skipped).
    """
    recover_stale()
    size = int(batch or settings.NOTICES_BATCH)
    handled = 0
    touched: set[int] = set()
    ctx = _Context()
    tally: Counter[str] = Counter()
    while limit is None or handled < limit:
        n = size if limit is None else min(size, limit - handled)
        token, ids = _claim(channel, n, timezone.now())
        if not ids:
            break
        rows = [
            _Row(id=i, key=str(k), message_id=m, user_id=u, channel=c, language=lang, attempts=a)
            for i, k, m, u, c, lang, a in Delivery.objects.filter(
                claim=token, state=Delivery.State.CLAIMED
            )
            .order_by("id")
            .values_list("id", "key", "message_id", "user_id", "channel", "language", "attempts")
        ]
        touched.update(r.message_id for r in rows)
        tally.update(_send_batch(rows, ctx))
        handled += len(ids)
    if touched:
        finish_messages(touched)
    if handled:
        log.info("worker %s handled %d deliveries: %s", worker or "-", handled, dict(tally))
    return handled


# --- finishing, recovering, opening, purging ---------------------------------------------------


def counts(message: Message | int) -> dict[str, dict[str, int]]:
    """``{channel: {state: n}}`` for a message's delivery rows."""
    message_id = message if isinstance(message, int) else message.pk
    out: dict[str, dict[str, int]] = {}
    for row in (
        Delivery.objects.filter(message_id=message_id)
        .values("channel", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out.setdefault(row["channel"], {})[row["state"]] = row["n"]
    return out


def finish_messages(message_ids: Iterable[int]) -> int:
    """Mark sending messages with no open delivery left as done, keeping their counts."""
    ids = list(message_ids)
    if not ids:
        return 0
    still_open = set(
        Delivery.objects.filter(message_id__in=ids, state__in=OPEN_STATES)
        .values_list("message_id", flat=True)
        .distinct()
    )
    done = 0
    for message_id in ids:
        if message_id in still_open:
            continue
        with transaction.atomic():
            stats = counts(message_id)
            changed = Message.objects.filter(pk=message_id, state=Message.State.SENDING).update(
                state=Message.State.DONE, finished_at=timezone.now(), stats=stats
            )
            if changed:
                audit.record(
                    "notices.message_done",
                    target_type="notices.message",
                    target_id=message_id,
                    details={"stats": stats},
                )
                done += 1
    return done


def _idempotent(channel: str) -> bool:
    from cityhall.notices import channels

    try:
        return bool(channels.sender(channel).idempotent)
    except Exception:  # a channel that cannot be built now is treated as not idempotent
        log.warning("no sender for channel %s; treating it as not idempotent", channel)
        return False


def recover_stale(now: dt.datetime | None = None) -> dict[str, int]:
    """Look again at rows a stopped worker left behind (older than the claim timeout).

    ``claimed`` rows were never tried: they are queued again. ``sending`` rows may have
    reached the resident: ``unknown`` (never sent twice), or queued again on an idempotent
    channel. Returns ``{"requeued": n, "unknown": n, "retried": n}``.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=int(settings.NOTICES_CLAIM_TIMEOUT))
    result = {"requeued": 0, "unknown": 0, "retried": 0}
    with transaction.atomic():
        result["requeued"] = Delivery.objects.filter(
            state=Delivery.State.CLAIMED, claimed_at__lt=cutoff
        ).update(state=Delivery.State.QUEUED, claim="", claimed_at=None)
        sending = Delivery.objects.filter(state=Delivery.State.SENDING, claimed_at__lt=cutoff)
        stale_channels = list(sending.values_list("channel", flat=True).distinct())
        touched: set[int] = set()
        for channel in stale_channels:
            rows = sending.filter(channel=channel)
            touched.update(rows.values_list("message_id", flat=True).distinct())
            if _idempotent(channel):
                result["retried"] += rows.update(
                    state=Delivery.State.QUEUED, claim="", claimed_at=None, next_attempt_at=now
                )
            else:
                result["unknown"] += rows.update(
                    state=Delivery.State.UNKNOWN,
                    claim="",
                    error="worker stopped while sending: outcome unknown, not sent again",
                )
        if any(result.values()):
            audit.record("notices.deliveries_recovered", details=dict(result))
    if touched:
        finish_messages(touched)
    return result


def mark_opened(key: str | uuid.UUID) -> bool:
    """The resident opened a sent delivery (push click, tracked link). True when it counted."""
    try:
        value = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
    except ValueError:
        return False
    return bool(
        Delivery.objects.filter(key=value, state=Delivery.State.SENT).update(
            state=Delivery.State.OPENED, opened_at=timezone.now()
        )
    )


def purge(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete delivery rows of messages finished more than NOTICES_RETENTION_DAYS ago (their
    counts stay in ``Message.stats``) and inbox items older than NOTICES_INBOX_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=int(settings.NOTICES_RETENTION_DAYS))
    inbox_cutoff = now - dt.timedelta(days=int(settings.NOTICES_INBOX_RETENTION_DAYS))
    result = {"messages": 0, "deliveries": 0, "inbox_items": 0}
    with transaction.atomic():
        old = list(
            Message.objects.filter(
                state__in=[Message.State.DONE, Message.State.CANCELLED],
                finished_at__lt=cutoff,
                deliveries__isnull=False,
            )
            .distinct()
            .values_list("pk", "stats")
        )
        for message_id, stats in old:
            if not stats:
                Message.objects.filter(pk=message_id).update(stats=counts(message_id))
        ids = [pk for pk, _stats in old]
        if ids:
            result["deliveries"], _ = Delivery.objects.filter(message_id__in=ids).delete()
            result["messages"] = len(ids)
        result["inbox_items"], _ = InboxItem.objects.filter(created_at__lt=inbox_cutoff).delete()
        if any(result.values()):
            audit.record("notices.purged", details=dict(result))
    return result
