"""Messages to residents: made from a template, checked whole, then scheduled or queued.

:func:`create_message` refuses bad input before anything is queued, naming every problem
at once (:class:`MessageError`): an inactive or missing template, placeholders with no
value, a schedule in the past, a segment nobody in it can receive, a template without a
language that some recipients read. The content is rendered per language when the
message is made (only ``((name))`` stays, filled per resident when sending).

:func:`send_alert` is the emergency fast path: a preset template, a level, districts
(none = the whole city); the alert goes to every resident who gave the ``emergency``
consent in those districts, on every linked channel, at once (no quiet hours), and an
urgent article is published with it.

:func:`queue` turns a message into delivery rows (see :mod:`.delivery`): the segment is
resolved with consent and topic, each resident's channels are looked up, the rows are
inserted in bulk, and one sending task per channel is enqueued after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityhall.core import audit
from cityhall.core.models import District
from cityhall.notices import templating
from cityhall.notices.models import (
    CHANNELS,
    EMERGENCY,
    Delivery,
    Message,
    MessageTemplate,
    Segment,
)
from cityhall.notices.services import delivery, segments


class MessageError(ValueError):
    """Bad input for a message or an alert: ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, Iterable[str]]) -> None:
        self.errors: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in errors.items()}
        super().__init__("; ".join(m for msgs in self.errors.values() for m in msgs))


def _language_names() -> dict[str, str]:
    return {code: str(name) for code, name in settings.LANGUAGES}


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _check_template(
    template: MessageTemplate | None, errors: dict[str, list[str]], *, kind: str | None = None
) -> bool:
    if template is None:
        _add(errors, "template", _("Choose a template."))
        return False
    if not template.is_active:
        _add(
            errors,
            "template",
            _("The template “%(name)s” is not in use.") % {"name": template.name},
        )
        return False
    if kind == MessageTemplate.Kind.EMERGENCY and template.kind != kind:
        _add(errors, "template", _("Choose an emergency alert template."))
        return False
    if kind is None and template.kind == MessageTemplate.Kind.EMERGENCY:
        _add(errors, "template", _("Emergency alert templates are sent from the alert form."))
        return False
    content = template.content or {}
    if not isinstance(content.get("ja"), dict):
        _add(errors, "template", _("The template has no Japanese text."))
        return False
    return True


def _clean_values(values: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in (values or {}).items()}


def render_content(
    template: MessageTemplate, values: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Every language of the template with the message-level values filled.

    Raises :class:`~cityhall.notices.templating.UnknownPlaceholder` naming every
    placeholder (other than the per-resident ones) that has no value, in any language.
    """
    missing: set[str] = set()
    out: dict[str, dict[str, str]] = {}
    for language, parts in (template.content or {}).items():
        if not isinstance(parts, dict):
            continue
        rendered: dict[str, str] = {}
        for part in ("subject", "body"):
            text = str(parts.get(part, "") or "")
            try:
                rendered[part] = templating.fill(text, values, keep=templating.PER_RECIPIENT)
            except templating.UnknownPlaceholder as exc:
                missing.update(exc.names)
        out[language] = rendered
    if missing:
        raise templating.UnknownPlaceholder(missing)
    return out


def _check_values(
    template: MessageTemplate, values: Mapping[str, str], errors: dict[str, list[str]]
) -> dict[str, dict[str, str]]:
    try:
        return render_content(template, values)
    except templating.UnknownPlaceholder as exc:
        names = ", ".join(f"(({name}))" for name in exc.names)
        _add(
            errors,
            "values",
            ngettext(
                "The template has a placeholder with no value: %(names)s.",
                "The template has placeholders with no value: %(names)s.",
                len(exc.names),
            )
            % {"names": names},
        )
        return {}


def _check_languages(
    template: MessageTemplate,
    targets: list[tuple[int, str, str]],
    errors: dict[str, list[str]],
) -> None:
    """Refuse a template without a language some recipients read, saying how many read it."""
    have = {lang for lang, parts in (template.content or {}).items() if isinstance(parts, dict)}
    readers: Counter[str] = Counter()
    seen: set[int] = set()
    for user_id, _channel, language in targets:
        if user_id not in seen:
            seen.add(user_id)
            readers[language or "ja"] += 1
    names = _language_names()
    missing = sorted(lang for lang in readers if lang not in have)
    if missing:
        listed = ", ".join(
            ngettext(
                "%(language)s (%(count)d resident)",
                "%(language)s (%(count)d residents)",
                readers[lang],
            )
            % {"language": names.get(lang, lang), "count": readers[lang]}
            for lang in missing
        )
        _add(
            errors,
            "template",
            _(
                "The template has no text in a language some recipients read: %(languages)s. "
                "Add those versions to the template first."
            )
            % {"languages": listed},
        )


def _filters_of(
    segment: Segment | None, filters: Mapping[str, Any] | None, errors: dict[str, list[str]]
) -> dict[str, Any] | None:
    raw = dict(segment.filters) if segment is not None else dict(filters or {})
    try:
        return segments.Filters.from_dict(raw).to_dict()
    except segments.SegmentError as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                _add(errors, f"filters.{field}" if field else "filters", message)
        return None


def _check_channels(channels: Iterable[str] | None, errors: dict[str, list[str]]) -> list[str]:
    chosen = list(dict.fromkeys(channels or []))
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown:
        _add(
            errors,
            "channels",
            _("Unknown channels: %(channels)s.") % {"channels": ", ".join(unknown)},
        )
    return [c for c in chosen if c in CHANNELS]


def _placeholder_switch() -> bool:
    """Benchmarks reach the synthetic ``*.invalid`` addresses through the e-mail switch."""
    from cityhall.notices.channels import email

    return bool(getattr(email, "INCLUDE_PLACEHOLDER_ADDRESSES", False))


def _targets(
    *, kind: str, topic: str, filters: Mapping[str, Any], channels: list[str] | None
) -> list[tuple[int, str, str]]:
    """(user_id, channel, language) of every delivery a message needs, consent proven."""
    placeholders = _placeholder_switch()
    if kind == Message.Kind.EMERGENCY:
        chosen = segments.Filters(districts=list(filters.get("districts") or []))
        ids = segments.resolve(chosen, purpose="emergency")
        return segments.reachable(
            ids,
            channels=channels or None,
            emergency=True,
            include_placeholder_addresses=placeholders,
        )
    ids = segments.resolve(segments.Filters.from_dict(dict(filters)), purpose="notify", topic=topic)
    return segments.reachable(
        ids, channels=channels or None, include_placeholder_addresses=placeholders
    )


def create_message(
    *,
    template: MessageTemplate | None,
    values: Mapping[str, Any] | None,
    segment: Segment | None = None,
    filters: Mapping[str, Any] | None = None,
    channels: Iterable[str] | None = None,
    scheduled_at: dt.datetime | None = None,
    actor: Any,
    request: HttpRequest | None = None,
) -> Message:
    """Check everything, then schedule the message or queue it now.

    Raises :class:`MessageError` with every problem found; nothing is written then.
    """
    errors: dict[str, list[str]] = {}
    clean = _clean_values(values)
    now = timezone.now()
    content: dict[str, dict[str, str]] = {}
    template_ok = _check_template(template, errors)
    if template_ok and template is not None:
        content = _check_values(template, clean, errors)
    if scheduled_at is not None and scheduled_at <= now:
        _add(errors, "scheduled_at", _("The time to send is in the past. Choose a later time."))
    chosen_filters = _filters_of(segment, filters, errors)
    chosen_channels = _check_channels(channels, errors)
    targets: list[tuple[int, str, str]] = []
    if (
        template_ok
        and template is not None
        and chosen_filters is not None
        and "channels" not in errors
    ):
        targets = _targets(
            kind=template.kind,
            topic=template.topic,
            filters=chosen_filters,
            channels=chosen_channels,
        )
        if not targets:
            _add(
                errors,
                "segment",
                _(
                    "Nobody in this segment can receive the message: no resident matches, or none "
                    "has agreed to messages on this topic and channel. Nothing was sent."
                ),
            )
        else:
            _check_languages(template, targets, errors)
    if errors:
        raise MessageError(errors)
    assert template is not None and chosen_filters is not None  # for the type checker
    with transaction.atomic():
        message = Message.objects.create(
            kind=template.kind,
            topic=template.topic,
            template=template,
            content=content,
            values=clean,
            segment=segment,
            filters=chosen_filters,
            channels=chosen_channels,
            scheduled_at=scheduled_at,
            state=Message.State.SCHEDULED if scheduled_at else Message.State.QUEUING,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            "notices.message_created",
            request=request,
            actor=actor,
            target=message,
            details={
                "template": template.code,
                "segment": segment.pk if segment else None,
                "filters": chosen_filters,
                "channels": chosen_channels,
                "scheduled_at": scheduled_at.isoformat() if scheduled_at else None,
                "recipients_now": len({t[0] for t in targets}),
            },
        )
        if scheduled_at is not None:
            _schedule(message)
        else:
            _queue(message, targets)
    return message


def _schedule(message: Message) -> None:
    """Enqueue the queuing task for the scheduled time (when the task backend can defer;
    ``cityhall send_notices`` dispatches due messages in any case)."""
    from cityhall.notices import tasks

    task = tasks.queue_message_task
    if message.scheduled_at is None or not task.get_backend().supports_defer:
        return
    message_id = message.pk
    deferred = task.using(run_after=message.scheduled_at)
    transaction.on_commit(lambda: deferred.enqueue(message_id))


def _queue(message: Message, targets: list[tuple[int, str, str]]) -> int:
    now = timezone.now()
    emergency = message.kind == Message.Kind.EMERGENCY
    quiet = {} if emergency else delivery.quiet_ends({t[0] for t in targets}, now)
    with transaction.atomic():
        created = delivery.insert_deliveries(message, targets, now=now, quiet=quiet)
        recipients = len({t[0] for t in targets})
        state = Message.State.SENDING if created else Message.State.DONE
        Message.objects.filter(pk=message.pk).update(
            state=state,
            recipients=recipients,
            queued_at=now,
            finished_at=None if created else now,
        )
        message.state, message.recipients, message.queued_at = state, recipients, now
        audit.record(
            "notices.message_queued",
            target=message,
            details={
                "deliveries": created,
                "recipients": recipients,
                "waiting_for_quiet_hours": len(quiet),
            },
        )
        channels_used = sorted({t[1] for t in targets})
        if created:
            from cityhall.notices import tasks

            for channel in channels_used:
                transaction.on_commit(
                    lambda channel=channel: tasks.send_deliveries_task.enqueue(channel)  # type: ignore[misc]
                )
    return created


def queue(message: Message) -> int:
    """Create the message's deliveries now (once); returns how many were created.

    A message that is not scheduled or being queued (already queued, cancelled) is left
    alone and 0 is returned.
    """
    with transaction.atomic():
        taken = Message.objects.filter(
            pk=message.pk, state__in=[Message.State.SCHEDULED, Message.State.QUEUING]
        ).update(state=Message.State.QUEUING)
        if not taken or Delivery.objects.filter(message_id=message.pk).exists():
            message.refresh_from_db()
            return 0
        message.refresh_from_db()
        targets = _targets(
            kind=message.kind,
            topic=message.topic,
            filters=message.filters or {},
            channels=list(message.channels or []) or None,
        )
        return _queue(message, targets)


def dispatch_due(now: dt.datetime | None = None) -> int:
    """Queue every scheduled message whose time has come; returns how many were queued."""
    now = now or timezone.now()
    due = list(
        Message.objects.filter(state=Message.State.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)
    )
    queued = 0
    for message_id in due:
        message = Message.objects.filter(pk=message_id).first()
        if message is not None and message.state == Message.State.SCHEDULED:
            queue(message)
            queued += 1
    return queued


def cancel(message: Message, *, actor: Any, request: HttpRequest | None = None) -> Message:
    """Stop a message: a scheduled one never goes; a sending one sends nothing more
    (rows still queued become ``skipped``; rows already with a worker finish)."""
    with transaction.atomic():
        current = Message.objects.select_for_update().get(pk=message.pk)
        if current.state in (Message.State.DONE, Message.State.CANCELLED):
            raise MessageError({"": [_("This message is finished and cannot be cancelled.")]})
        skipped = Delivery.objects.filter(
            message_id=current.pk, state=Delivery.State.QUEUED
        ).update(state=Delivery.State.SKIPPED, error="cancelled")
        now = timezone.now()
        stats = delivery.counts(current.pk)
        Message.objects.filter(pk=current.pk).update(
            state=Message.State.CANCELLED, finished_at=now, stats=stats
        )
        audit.record(
            "notices.message_cancelled",
            request=request,
            actor=actor,
            target=current,
            details={"was": current.state, "skipped": skipped},
        )
    message.refresh_from_db()
    return message


def board(message: Message) -> dict[str, Any]:
    """Live counts for the delivery board: ``{"channels": {channel: {state: n}}, "total": n,
    "done": bool}`` (after purging, the counts kept on the message)."""
    message.refresh_from_db(fields=["state", "stats"])
    channels = delivery.counts(message)
    if not channels and message.stats:
        channels = {c: dict(states) for c, states in message.stats.items()}
    total = sum(n for states in channels.values() for n in states.values())
    return {
        "channels": channels,
        "total": total,
        "done": message.state in (Message.State.DONE, Message.State.CANCELLED),
    }


def preview(
    template: MessageTemplate, values: Mapping[str, Any] | None, language: str
) -> dict[str, str]:
    """Subject and body in ``language`` (else Japanese) with the values given so far filled;
    placeholders without a value stay visible as ``((name))``."""
    content = template.content or {}
    parts = content.get(language) if isinstance(content.get(language), dict) else None
    parts = parts or content.get("ja") or {}
    clean = {k: v for k, v in _clean_values(values).items() if v != ""}
    out: dict[str, str] = {}
    for part in ("subject", "body"):
        text = str(parts.get(part, "") or "")
        keep = templating.placeholders(text) - set(clean)
        out[part] = templating.fill(text, clean, keep=keep)
    return out


def send_alert(
    *,
    template: MessageTemplate | None,
    level: str,
    districts: Iterable[str],
    values: Mapping[str, Any] | None,
    actor: Any,
    request: HttpRequest | None = None,
) -> Message:
    """The emergency fast path: check, publish the urgent article, queue at once.

    Reaches every resident with the ``emergency`` consent in the districts (none = the
    whole city) on every linked channel, ignoring quiet hours and topics.
    """
    errors: dict[str, list[str]] = {}
    clean = _clean_values(values)
    codes = list(dict.fromkeys(str(c) for c in districts or [] if str(c).strip()))
    content: dict[str, dict[str, str]] = {}
    template_ok = _check_template(template, errors, kind=MessageTemplate.Kind.EMERGENCY)
    if template_ok and template is not None:
        content = _check_values(template, clean, errors)
    if level not in Message.Level.values:
        _add(errors, "level", _("Choose the alert level."))
    if codes:
        known = set(District.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            _add(
                errors,
                "districts",
                _("Unknown districts: %(codes)s.") % {"codes": ", ".join(unknown)},
            )
    targets: list[tuple[int, str, str]] = []
    if template_ok and template is not None and "districts" not in errors:
        targets = _targets(
            kind=Message.Kind.EMERGENCY,
            topic=EMERGENCY,
            filters={"districts": codes},
            channels=None,
        )
        if not targets:
            _add(
                errors,
                "districts",
                _(
                    "Nobody in these districts has agreed to receive emergency alerts. "
                    "Nothing was sent."
                ),
            )
        else:
            _check_languages(template, targets, errors)
    if errors:
        raise MessageError(errors)
    assert template is not None
    from cityhall.notices.services import articles

    with transaction.atomic():
        message = Message.objects.create(
            kind=Message.Kind.EMERGENCY,
            topic=EMERGENCY,
            template=template,
            content=content,
            values=clean,
            filters={"districts": codes},
            channels=[],
            level=level,
            state=Message.State.QUEUING,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        articles.publish_alert_article(message, actor)
        created = _queue(message, targets)
        audit.record(
            "notices.alert_sent",
            request=request,
            actor=actor,
            target=message,
            details={
                "template": template.code,
                "level": level,
                "districts": codes,
                "deliveries": created,
                "recipients": message.recipients,
            },
        )
    return message
