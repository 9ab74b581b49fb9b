"""Templates and messages in the staff console (/staff/notices/messages/, …/templates/).

Thin views over :mod:`cityhall.notices.services.templates` and
:mod:`cityhall.notices.services.messages`:

- templates: list, new, edit — one subject/text pair per language (やさしい日本語 first),
  every rule of :func:`~cityhall.notices.services.templates.validate_content` shown in
  the error summary;
- messages: the list; compose in two steps (template + saved segment, then channels,
  values, when — with a preview per language, the live count, and a confirm step that
  says how many residents on which channels in which languages); the message's page is
  its live delivery board (``board.json`` polled every 2 s by ``notices/board.js``;
  without JavaScript a refresh link), with a cancel button while it can be stopped.

Who may: :mod:`cityhall.notices.permissions` — the public-relations department composes
news; the crisis-management department owns emergency templates and alerts; both see the
list and the boards. ``StaffMFAMiddleware`` keeps the pages behind a TOTP-verified
session.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.core.i18n import HTML_LANG
from cityhall.notices import permissions
from cityhall.notices.models import Message, MessageTemplate, Segment
from cityhall.notices.services import templates as template_service
from cityhall.notices.staff.message_forms import ChooseForm, ComposeForm, TemplateForm
from cityhall.people.models import Channel
from cityhall.people.staff_views import sections

SECTION = "noticestaff:messages"
LIST_SIZE = 100
#: The columns of the delivery board; rows a worker holds count as queued until done.
BOARD_STATES = ["queued", "sent", "opened", "failed", "unknown", "skipped"]
_FOLD = {"claimed": "queued", "sending": "queued"}
_STATE_LABELS = {
    "queued": gettext_lazy("Waiting"),
    "sent": gettext_lazy("Sent"),
    "opened": gettext_lazy("Opened"),
    "failed": gettext_lazy("Failed"),
    "unknown": gettext_lazy("Outcome unknown"),
    "skipped": gettext_lazy("Skipped"),
}


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    section: str = SECTION,
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", section)
    return render(request, f"notices/staff/{template}", context, status=status)


def _engine() -> Any:
    from cityhall.notices.services import messages as engine

    return engine


def _segments() -> Any:
    from cityhall.notices.services import segments

    return segments


def _available_channels() -> list[tuple[str, str]]:
    from cityhall.notices import channels

    labels = dict(Channel.choices)
    return [(code, str(labels.get(code, code))) for code in channels.available()]


def _check(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _may_edit(user: Any, kind: str) -> bool:
    if kind == MessageTemplate.Kind.EMERGENCY:
        return permissions.can_send_alerts(user)
    return permissions.can_send_messages(user)


def _kinds_for(user: Any) -> list[tuple[str, Any]]:
    return [
        (value, label) for value, label in MessageTemplate.Kind.choices if _may_edit(user, value)
    ]


# --- templates ----------------------------------------------------------------------


@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_see_messages(request.user))
    rows = [
        {
            "template": t,
            "languages": [code for code in template_service.LANGUAGE_ORDER if code in t.content],
            "placeholders": template_service.placeholders_of(t.content),
            "editable": _may_edit(request.user, t.kind),
        }
        for t in MessageTemplate.objects.order_by("kind", "name")
    ]
    return _render(
        request,
        "templates.html",
        {
            "rows": rows,
            "can_add": bool(_kinds_for(request.user)),
            "language_names": template_service.LANGUAGE_NAMES,
        },
    )


def _template_page(
    request: HttpRequest, form: TemplateForm, template: MessageTemplate | None, status: int
) -> HttpResponse:
    found: list[str] = []
    if form.is_bound:
        raw = {
            code: {
                "subject": form.data.get(f"subject_{code.replace('-', '_')}", ""),
                "body": form.data.get(f"body_{code.replace('-', '_')}", ""),
            }
            for code in template_service.LANGUAGE_ORDER
        }
        found = template_service.placeholders_of(raw)
    elif template is not None:
        found = template_service.placeholders_of(template.content)
    return _render(
        request,
        "template_form.html",
        {
            "form": form,
            "template": template,
            "placeholders": found,
            "subject_max": template_service.SUBJECT_MAX,
            "body_max": template_service.BODY_MAX,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def template_new(request: HttpRequest) -> HttpResponse:
    kinds = _kinds_for(request.user)
    _check(bool(kinds))
    form = TemplateForm(request.POST or None, kinds=kinds, new=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                template = template_service.save_template(
                    name=form.cleaned_data["name"],
                    code=form.cleaned_data.get("code") or "",
                    kind=form.cleaned_data["kind"],
                    topic=form.cleaned_data["topic"],
                    content=form.content(),
                    is_active=bool(form.cleaned_data.get("is_active")),
                    actor=request.user,
                    request=request,
                )
            except template_service.TemplateError as exc:
                form.add_service_errors(exc.errors)
            else:
                flash.success(request, _("Template saved."))
                return redirect("noticestaff:template", pk=template.pk)
        status = 400
    return _template_page(request, form, None, status)


@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _check(permissions.can_see_messages(request.user))
    template = get_object_or_404(MessageTemplate, pk=pk)
    _check(_may_edit(request.user, template.kind))
    kinds = [(v, label) for v, label in _kinds_for(request.user)]
    if template.kind == MessageTemplate.Kind.EMERGENCY:
        kinds = [(v, label) for v, label in kinds if v == MessageTemplate.Kind.EMERGENCY]
    else:
        kinds = [(v, label) for v, label in kinds if v != MessageTemplate.Kind.EMERGENCY]
    form = TemplateForm(
        request.POST or None,
        kinds=kinds,
        new=False,
        initial=TemplateForm.initial_for(template),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                template_service.save_template(
                    template=template,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    topic=form.cleaned_data["topic"],
                    content=form.content(),
                    is_active=bool(form.cleaned_data.get("is_active")),
                    actor=request.user,
                    request=request,
                )
            except template_service.TemplateError as exc:
                form.add_service_errors(exc.errors)
            else:
                flash.success(request, _("Template saved."))
                return redirect("noticestaff:template", pk=template.pk)
        status = 400
    return _template_page(request, form, template, status)


# --- messages -----------------------------------------------------------------------


@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    _check(permissions.can_see_messages(request.user))
    rows = list(
        Message.objects.select_related("template", "segment", "created_by").order_by(
            "-created_at", "-id"
        )[:LIST_SIZE]
    )
    return _render(
        request,
        "messages.html",
        {
            "rows": rows,
            "can_compose": permissions.can_send_messages(request.user),
            "can_alert": permissions.can_send_alerts(request.user),
        },
    )


def _reach(template: MessageTemplate, segment: Segment, channels: list[str]) -> dict[str, Any]:
    """Who the message would reach now: residents, deliveries per channel, languages."""
    segments = _segments()
    filters = segments.Filters.from_dict(segment.filters)
    ids = segments.resolve(filters, purpose="notify", topic=template.topic)
    targets = segments.reachable(ids, channels=channels or None)
    residents = {user_id for user_id, _c, _l in targets}
    per_channel = Counter(channel for _u, channel, _l in targets)
    languages: Counter[str] = Counter()
    seen: set[int] = set()
    for user_id, _channel, language in targets:
        if user_id not in seen:
            seen.add(user_id)
            languages[language or "ja"] += 1
    labels = dict(Channel.choices)
    return {
        "residents": len(residents),
        "matching": len(ids),
        "channels": [
            {"code": code, "label": labels.get(code, code), "count": per_channel[code]}
            for code in (channels or list(per_channel))
            if per_channel.get(code)
        ],
        "languages": [
            {
                "code": code,
                "name": template_service.language_name(code),
                "lang": HTML_LANG.get(code, code),
                "count": n,
                "in_template": code in template.content,
            }
            for code, n in sorted(languages.items(), key=lambda item: -item[1])
        ],
    }


def _previews(template: MessageTemplate, values: dict[str, str]) -> list[dict[str, Any]]:
    engine = _engine()
    rows = []
    for language in template_service.languages():
        if language["code"] not in template.content:
            continue
        rendered = engine.preview(template, values, language["code"])
        rows.append({**language, "subject": rendered["subject"], "body": rendered["body"]})
    return rows


@require_http_methods(["GET", "POST"])
def message_new(request: HttpRequest) -> HttpResponse:
    """Compose: step 1 chooses template and segment; step 2 fills channels, values, when,
    previews and counts (``action=review``) and sends (``action=send``)."""
    _check(permissions.can_send_messages(request.user))
    data = request.POST if request.method == "POST" else None
    step = request.POST.get("step") if data else None
    # ?template=&segment= (the "Change" link of step 2) preselects step 1's answers.
    choose = ChooseForm(
        data if step == "1" else None,
        initial={k: request.GET.get(k) for k in ("template", "segment") if request.GET.get(k)},
    )
    template: MessageTemplate | None = None
    segment: Segment | None = None
    if step == "2":
        template = (
            MessageTemplate.objects.filter(pk=_int(request.POST.get("template")), is_active=True)
            .exclude(kind=MessageTemplate.Kind.EMERGENCY)
            .first()
        )
        segment = Segment.objects.filter(pk=_int(request.POST.get("segment"))).first()
        if template is None or segment is None:
            choose = ChooseForm(
                {"template": request.POST.get("template"), "segment": request.POST.get("segment")}
            )
            choose.is_valid()
            template = segment = None
    elif choose.is_bound and choose.is_valid():
        template = choose.cleaned_data["template"]
        segment = choose.cleaned_data["segment"]
    if template is None or segment is None:
        status = 400 if choose.is_bound and choose.errors else 200
        return _render(
            request,
            "message_new.html",
            {
                "step": 1,
                "form": choose,
                "has_segments": Segment.objects.exists(),
                "has_templates": choose.fields["template"].queryset.exists(),  # type: ignore[attr-defined]
            },
            status=status,
        )

    available = _available_channels()
    form = ComposeForm(
        data if step == "2" else None,
        template=template,
        available_channels=available,
        initial={"template": template.pk, "segment": segment.pk},
    )
    context: dict[str, Any] = {
        "step": 2,
        "form": form,
        "template": template,
        "segment": segment,
        "segment_lines": _describe(segment),
        "count": _segments().count(
            _segments().Filters.from_dict(segment.filters),
            purpose="notify",
            topic=template.topic,
        ),
    }
    status = 200
    if step == "2":
        action = request.POST.get("action", "review")
        if form.is_valid():
            channels = list(form.cleaned_data["channels"])
            values = form.values()
            if action == "send":
                try:
                    message = _engine().create_message(
                        template=template,
                        values=values,
                        segment=segment,
                        channels=channels,
                        scheduled_at=form.when_at(),
                        actor=request.user,
                        request=request,
                    )
                except _engine().MessageError as exc:
                    form.add_service_errors(exc.errors)
                else:
                    if message.state == Message.State.SCHEDULED:
                        flash.success(request, _("The message is scheduled."))
                    else:
                        flash.success(request, _("The message is being sent."))
                    return redirect("noticestaff:message", pk=message.pk)
            else:
                reach = _reach(template, segment, channels)
                if not reach["residents"]:
                    form.add_error(
                        None,
                        _(
                            "Nobody in this segment can receive the message on these channels: "
                            "no resident matches, or none has agreed to messages on this topic."
                        ),
                    )
                else:
                    context["reach"] = reach
                    context["when_at"] = form.when_at()
            context["previews"] = _previews(template, values) if not form.errors else []
        if form.errors:
            status = 400
    if not form.is_bound:
        context["previews"] = _previews(template, {})
    return _render(request, "message_new.html", context, status=status)


def _int(value: Any) -> int:
    """A primary key from a form value; 0 (matches nothing) when it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _describe(segment: Segment) -> list[str]:
    try:
        lines: list[str] = _segments().Filters.from_dict(segment.filters).describe()
    except ValueError:
        return []
    return lines


# --- the board ----------------------------------------------------------------------


def _may_see(user: Any, message: Message) -> bool:
    return permissions.can_see_messages(user)


def _may_cancel(user: Any, message: Message) -> bool:
    if message.state not in (
        Message.State.SCHEDULED,
        Message.State.QUEUING,
        Message.State.SENDING,
    ):
        return False
    if message.kind == Message.Kind.EMERGENCY:
        return permissions.can_send_alerts(user)
    return permissions.can_send_messages(user)


def board_table(message: Message, board: dict[str, Any]) -> dict[str, Any]:
    """The board as rows (channel) × columns (state), with totals and the progress."""
    labels = dict(Channel.choices)
    counts: dict[str, dict[str, int]] = {}
    for channel, states in (board.get("channels") or {}).items():
        row = counts.setdefault(channel, dict.fromkeys(BOARD_STATES, 0))
        for state, n in states.items():
            key = _FOLD.get(state, state)
            if key in row:
                row[key] += int(n)
    wanted = list(message.channels or []) or [c for c, _l in Channel.choices]
    order = [c for c, _l in Channel.choices]
    channels = [c for c in order if c in counts or (c in wanted and message.channels)]
    totals = dict.fromkeys(BOARD_STATES, 0)
    rows = []
    cells: dict[str, int] = {}
    for channel in channels:
        row = counts.get(channel, dict.fromkeys(BOARD_STATES, 0))
        total = sum(row.values())
        for state in BOARD_STATES:
            totals[state] += row[state]
            cells[f"{channel}.{state}"] = row[state]
        cells[f"{channel}.total"] = total
        rows.append(
            {
                "channel": channel,
                "label": labels.get(channel, channel),
                "cells": [{"state": s, "n": row[s]} for s in BOARD_STATES],
                "total": total,
            }
        )
    grand = sum(totals.values())
    for state in BOARD_STATES:
        cells[f"total.{state}"] = totals[state]
    cells["total.total"] = grand
    processed = grand - totals["queued"]
    percent = (100 * processed // grand) if grand else (100 if board.get("done") else 0)
    done = bool(board.get("done"))
    if done:
        text = _("Finished: %(processed)s of %(total)s deliveries processed.") % {
            "processed": f"{processed:,}",
            "total": f"{grand:,}",
        }
    else:
        text = _("%(processed)s of %(total)s deliveries processed (%(percent)s%%).") % {
            "processed": f"{processed:,}",
            "total": f"{grand:,}",
            "percent": percent,
        }
    return {
        "states": [{"code": s, "label": _STATE_LABELS[s]} for s in BOARD_STATES],
        "rows": rows,
        "totals": [{"state": s, "n": totals[s]} for s in BOARD_STATES],
        "grand": grand,
        "cells": cells,
        "progress": {
            "processed": processed,
            "total": grand,
            "percent": percent,
            "done": done,
            "text": text,
        },
    }


@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(
        Message.objects.select_related("template", "segment", "created_by", "article"), pk=pk
    )
    _check(_may_see(request.user, message))
    board = _engine().board(message)
    table = board_table(message, board)
    content = [
        {
            "code": code,
            "name": template_service.language_name(code),
            "lang": HTML_LANG.get(code, code),
            **parts,
        }
        for code, parts in template_service.ordered(message.content or {}).items()
    ]
    section = (
        "noticestaff:alert_new"
        if message.kind == Message.Kind.EMERGENCY
        and not permissions.can_send_messages(request.user)
        else SECTION
    )
    return _render(
        request,
        "message_detail.html",
        {
            "message": message,
            "board": table,
            "content": content,
            "can_cancel": _may_cancel(request.user, message),
            "district_names": _district_names(message),
            "channel_labels": [dict(Channel.choices).get(c, c) for c in (message.channels or [])],
        },
        section=section,
    )


def _district_names(message: Message) -> list[str]:
    from cityhall.core.models import District

    codes = list((message.filters or {}).get("districts") or [])
    if not codes:
        return []
    return [d.localized_name() for d in District.objects.filter(code__in=codes)]


@require_GET
def board_json(request: HttpRequest, pk: int) -> HttpResponse:
    from cityhall.core.problems import problem_response

    message = Message.objects.filter(pk=pk).first()
    if message is None:
        return problem_response("not-found", request)
    if not _may_see(request.user, message):
        return problem_response("permission-denied", request)
    board = _engine().board(message)
    table = board_table(message, board)
    body = {
        **board,
        "state": message.state,
        "cells": table["cells"],
        "progress": table["progress"],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    _check(_may_see(request.user, message))
    if not _may_cancel(request.user, message):
        if message.state in (Message.State.DONE, Message.State.CANCELLED):
            flash.error(request, _("This message is finished and cannot be cancelled."))
            return redirect("noticestaff:message", pk=message.pk)
        raise PermissionDenied
    if request.POST.get("confirm") != "yes":
        waiting = board_table(message, _engine().board(message))
        return _render(
            request,
            "message_cancel.html",
            {"message": message, "waiting": waiting["totals"][0]["n"]},
        )
    try:
        _engine().cancel(message, actor=request.user, request=request)
    except _engine().MessageError as exc:
        for messages_ in exc.errors.values():
            for text in messages_:
                flash.error(request, text)
    else:
        flash.success(request, _("The message is cancelled: nothing more is sent."))
    return redirect("noticestaff:message", pk=message.pk)
