"""Inquiries on the case board (a tab of it): the list, one inquiry, its actions, and the
routing rules and reply templates (定型文) for triage and admin staff.

Thin views over :mod:`cityhall.inquiries.services.tickets`; every read of an inquiry is
audited there. A clerk sees the inquiries of their departments; triage staff (広報広聴課)
and administrators see all of them and the triage queue.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cityhall.inquiries import permissions
from cityhall.inquiries.forms_tickets import (
    FilterForm,
    ReplyForm,
    RouteForm,
    RuleForm,
    StatusForm,
    TemplateForm,
)
from cityhall.inquiries.models import ReplyTemplate, RoutingRule, Ticket
from cityhall.inquiries.services import tickets
from cityhall.people.staff_views import sections
from cityhall.procedures.services import hooks

SECTION = "procstaff:board"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    context.setdefault("board_tabs", hooks.board_tabs(request.user, "inqstaff:tickets"))
    context.setdefault("can_manage", tickets.can_manage_routing(request.user))
    return render(request, f"inquiries/staff/tickets/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_work_tickets(request.user):
        raise PermissionDenied


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    _check(request)
    ticket = tickets.staff_ticket(request.user, pk)
    if ticket is None:
        raise Http404
    return ticket


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


# --- the list -------------------------------------------------------------------------------


def ticket_list(request: HttpRequest) -> HttpResponse:
    _check(request)
    user = request.user
    can_triage = permissions.can_triage(user)
    departments = tickets.department_choices()
    if not (can_triage or permissions.is_admin(user)):
        departments = departments.filter(pk__in=permissions.department_ids(user))
    form = FilterForm(request.GET or None, departments=list(departments), triage=can_triage)
    page = None
    rows: list[dict[str, Any]] = []
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        filters = tickets.BoardFilters(
            department=data.get("department"),
            status=data.get("status") or "",
            overdue=bool(data.get("overdue")),
            triage=bool(data.get("triage")),
            q=(data.get("q") or "").strip(),
            channel=data.get("channel") or "",
        )
        page = tickets.board(user, filters, _page_number(request))
        rows = [
            {
                "ticket": t,
                "url": reverse("inqstaff:ticket", args=[t.pk]),
                "overdue": tickets.is_overdue(t),
            }
            for t in page
        ]
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filters": query.urlencode(),
            "can_triage": can_triage,
        },
        status=422 if form.errors else 200,
    )


# --- one inquiry ----------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    route_form: RouteForm | None = None,
    status_form: StatusForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tickets.record_view(ticket, request)
    templates = list(tickets.reply_templates(ticket))
    if reply_form is None:
        initial: dict[str, Any] = {}
        chosen = request.GET.get("template", "")
        if chosen.isdigit():
            picked = next((t for t in templates if t.pk == int(chosen)), None)
            if picked is not None:
                initial["body"] = tickets.template_text(picked, ticket.language)
        reply_form = ReplyForm(initial=initial)
    staff = tickets.assignable_staff(ticket)
    if status_form is None:
        status_form = StatusForm(
            initial={"status": ticket.status, "assignee": ticket.assignee_id}, staff=staff
        )
    can_route = permissions.can_triage(request.user) or permissions.is_admin(request.user)
    if route_form is None and (can_route or ticket.department_id is not None):
        route_form = RouteForm(initial={"department": ticket.department_id})
    thread = list(tickets.staff_thread(ticket))
    transcript = list(ticket.conversation.turns.all()) if ticket.conversation else []
    return _render(
        request,
        "detail.html",
        {
            "ticket": ticket,
            "thread": thread,
            "transcript": transcript,
            "overdue": tickets.is_overdue(ticket),
            "suggestion": (
                ticket.suggested_department if can_route and ticket.department_id is None else None
            ),
            "templates": templates,
            "reply_form": reply_form,
            "route_form": route_form,
            "status_form": status_form,
            "can_route": can_route,
            "form": reply_form if reply_form.errors else (route_form or status_form),
        },
        status=status,
    )


def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _ticket(request, pk))


@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        kind, body = form.cleaned_data["kind"], form.cleaned_data["body"]
        try:
            if kind == "note":
                tickets.add_note(ticket, request.user, body, request=request)
                messages.success(request, _("The note was added."))
            else:
                tickets.reply(
                    ticket, request.user, body, request=request, waiting=kind == "waiting"
                )
                messages.success(request, _("The answer was sent to the resident."))
        except tickets.TicketError as error:
            form.add_error(None, str(error))
        else:
            return redirect("inqstaff:ticket", pk=ticket.pk)
    return _detail(request, ticket, reply_form=form, status=422)


@require_POST
def route(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = RouteForm(request.POST)
    if form.is_valid():
        tickets.route(ticket, request.user, form.cleaned_data["department"], request=request)
        messages.success(request, _("The inquiry was sent to the department."))
        if tickets.staff_ticket(request.user, ticket.pk) is None:
            return redirect("inqstaff:tickets")
        return redirect("inqstaff:ticket", pk=ticket.pk)
    return _detail(request, ticket, route_form=form, status=422)


@require_POST
def status(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = StatusForm(request.POST, staff=tickets.assignable_staff(ticket))
    if form.is_valid():
        try:
            if form.cleaned_data["assignee"] != ticket.assignee:
                tickets.assign(ticket, request.user, form.cleaned_data["assignee"], request=request)
            if form.cleaned_data["status"] != ticket.status:
                tickets.set_status(
                    ticket, request.user, form.cleaned_data["status"], request=request
                )
        except tickets.TicketError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The inquiry was changed."))
            return redirect("inqstaff:ticket", pk=ticket.pk)
    return _detail(request, ticket, status_form=form, status=422)


# --- rules and templates -----------------------------------------------------------------------


def _check_manage(request: HttpRequest) -> None:
    if not tickets.can_manage_routing(request.user):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    _check_manage(request)
    raw = request.POST.get("pk") or request.GET.get("edit") or ""
    rule = get_object_or_404(RoutingRule, pk=int(raw)) if raw.isdigit() else RoutingRule()
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        tickets.save_rule(request.user, form.save(commit=False), request=request)
        messages.success(request, _("The rule was saved."))
        return redirect("inqstaff:rules")
    return _render(
        request,
        "rules.html",
        {
            "form": form,
            "rule": rule,
            "rules": RoutingRule.objects.select_related("department").order_by("priority", "pk"),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def templates(request: HttpRequest) -> HttpResponse:
    _check_manage(request)
    raw = request.POST.get("pk") or request.GET.get("edit") or ""
    template = get_object_or_404(ReplyTemplate, pk=int(raw)) if raw.isdigit() else ReplyTemplate()
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            tickets.save_template(request.user, form.apply(template), request=request)
            messages.success(request, _("The template was saved."))
            return redirect("inqstaff:reply_templates")
    else:
        form = TemplateForm(initial=TemplateForm.initial_for(template) if template.pk else None)
    return _render(
        request,
        "templates.html",
        {
            "form": form,
            "template": template,
            "templates": ReplyTemplate.objects.select_related("department").order_by("title"),
        },
        status=422 if form.errors else 200,
    )
