"""Reconciliation (消込) in the staff console: files, their lines, the exceptions queue, the
clerk's decisions, the revenue export and the reminders list.

Thin views over :mod:`cityhall.payments.services.reconcile`, ``revenue`` and
``reminders``. Only the collection division (``permissions.can_reconcile``) gets in
(others: 403); ``StaffMFAMiddleware`` keeps the pages behind a TOTP-verified session.
Lists that show payers' names are audited as reads; every decision is audited by the
service.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.core import audit
from cityhall.payments import permissions
from cityhall.payments.models import ImportedFile, ReconciliationLine, Reminder
from cityhall.payments.services import reconcile, revenue
from cityhall.payments.services import reminders as reminder_service
from cityhall.payments.staff.reconcile_forms import (
    OutcomeFilterForm,
    ResolveForm,
    RevenueForm,
    UploadForm,
)
from cityhall.people.models import User
from cityhall.people.staff_views import sections

SECTION = "paystaff:reconcile"
PER_PAGE = 50
LINES_PER_PAGE = 100
COLLECTION_KINDS = [k.value for k in reconcile.KINDS]


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"payments/staff/{template}", context, status=status)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _check(request: HttpRequest) -> None:
    if not permissions.can_reconcile(request.user):
        raise PermissionDenied


def _page(request: HttpRequest, items: Any, per_page: int) -> Any:
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1
    return Paginator(items, per_page).get_page(number)


def _line_rows(lines: Any) -> list[dict[str, Any]]:
    rows = []
    for line in lines:
        notice = line.notice
        charge = notice.installment.charge if notice is not None else None
        rows.append(
            {
                "line": line,
                "reason": reconcile.reason_text(line.reason),
                "notice": notice,
                "charge": charge,
                "payer": charge.payer_name if charge else "",
            }
        )
    return rows


# --- files --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def files(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = UploadForm()
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            before = ImportedFile.objects.filter(
                kind=form.cleaned_data["kind"], status=ImportedFile.Status.APPLIED
            ).count()
            try:
                imported = reconcile.import_collection_file(
                    form.cleaned_data["kind"],
                    data,
                    filename=upload.name or "upload",
                    actor=_actor(request),
                    request=request,
                )
            except reconcile.ReconcileError as error:
                form.add_error("file", str(error))
            else:
                again = (
                    imported.status == ImportedFile.Status.APPLIED
                    and ImportedFile.objects.filter(
                        kind=imported.kind, status=ImportedFile.Status.APPLIED
                    ).count()
                    == before
                )
                if again:
                    messages.warning(
                        request, _("This file was imported before: nothing was changed.")
                    )
                elif imported.status == ImportedFile.Status.REJECTED:
                    messages.error(request, _("The file was rejected: nothing was changed."))
                else:
                    messages.success(request, _("The file is imported."))
                return redirect("paystaff:reconcile_file", pk=imported.pk)
        status = 422
    history = _page(
        request,
        ImportedFile.objects.filter(kind__in=COLLECTION_KINDS).select_related("uploaded_by"),
        PER_PAGE,
    )
    waiting = ReconciliationLine.objects.filter(needs_review=True, resolution="").count()
    return _render(
        request,
        "reconcile_files.html",
        {"form": form, "history": history, "waiting": waiting},
        status=status,
    )


@require_GET
def file_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request)
    imported = get_object_or_404(ImportedFile, pk=pk, kind__in=COLLECTION_KINDS)
    form = OutcomeFilterForm(request.GET or None)
    lines = imported.lines.select_related("notice__installment__charge", "payment")
    outcome = ""
    if form.is_bound and form.is_valid():
        outcome = form.cleaned_data["outcome"]
        if outcome:
            lines = lines.filter(outcome=outcome)
    page = _page(request, lines.order_by("line_no"), LINES_PER_PAGE)
    rows = _line_rows(page.object_list)
    audit.record(
        "payments.reconcile_file_viewed",
        request=request,
        target=imported,
        details={"outcome": outcome, "page": page.number},
    )
    labels = dict(ReconciliationLine.Outcome.choices)
    counts = [
        (labels.get(key, key), value)
        for key, value in imported.summary.items()
        if key != "needs_review"
    ]
    return _render(
        request,
        "reconcile_file.html",
        {
            "file": imported,
            "form": form,
            "page": page,
            "rows": rows,
            "counts": counts,
            "outcome": outcome,
            "needs_review": imported.summary.get("needs_review", 0),
        },
        status=422 if form.errors else 200,
    )


# --- exceptions ---------------------------------------------------------------------------------


@require_GET
def exceptions(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = OutcomeFilterForm(request.GET or None)
    outcome = ""
    if form.is_bound and form.is_valid():
        outcome = form.cleaned_data["outcome"]
    page = _page(request, reconcile.exception_queue(outcome=outcome), PER_PAGE)
    rows = _line_rows(page.object_list)
    audit.record(
        "payments.exceptions_viewed",
        request=request,
        target_type="payments.reconciliationline",
        details={"outcome": outcome, "page": page.number, "lines": [r["line"].pk for r in rows]},
    )
    return _render(
        request,
        "exceptions.html",
        {"form": form, "page": page, "rows": rows, "outcome": outcome},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request)
    line = get_object_or_404(
        ReconciliationLine.objects.select_related(
            "file", "notice__installment__charge__kind", "payment", "resolved_by"
        ),
        pk=pk,
        needs_review=True,
    )
    actor = _actor(request)
    choices = reconcile.resolutions_for(line, actor)
    form = ResolveForm(request.POST or None, choices=choices)
    status = 200
    if request.method == "POST":
        if line.resolution:
            messages.error(request, _("This exception has already been resolved."))
            return redirect("paystaff:exception", pk=line.pk)
        if form.is_valid():
            try:
                reconcile.resolve(
                    line,
                    form.cleaned_data["resolution"],
                    form.cleaned_data["note"],
                    actor=actor,
                    request=request,
                    other_notice=form.cleaned_data.get("other_notice") or "",
                )
            except reconcile.ReconcileError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The decision is saved."))
                return redirect(reverse("paystaff:exceptions"))
        status = 422
    charge = line.notice.installment.charge if line.notice is not None else None
    audit.record(
        "payments.exception_viewed",
        request=request,
        target=line,
        subject=charge.resident_id if charge else None,
    )
    return _render(
        request,
        "exception_detail.html",
        {
            "line": line,
            "reason": reconcile.reason_text(line.reason),
            "charge": charge,
            "form": form,
            "refunds": list(line.refunds.all()),
        },
        status=status,
    )


# --- revenue and reminders ----------------------------------------------------------------------


@require_GET
def revenue_export(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = RevenueForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        body = revenue.export_revenue(
            date_from=data["date_from"],
            date_to=data["date_to"],
            encoding=data["encoding"],
            actor=_actor(request),
            request=request,
        )
        charset = "shift_jis" if data["encoding"] == "cp932" else "utf-8"
        response = HttpResponse(body, content_type=f"text/csv; charset={charset}")
        name = f"revenue-{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return _render(
        request,
        "reconcile_revenue.html",
        {"form": form, "columns": revenue.HEADER},
        status=422 if form.errors else 200,
    )


@require_GET
def reminders(request: HttpRequest) -> HttpResponse:
    _check(request)
    rows = Reminder.objects.select_related("installment__charge__kind").order_by(
        "state", "-created_at", "-id"
    )
    state = request.GET.get("state", "")
    if state in Reminder.State.values:
        rows = rows.filter(state=state)
    page = _page(request, rows, PER_PAGE)
    audit.record(
        "payments.reminders_viewed",
        request=request,
        target_type="payments.reminder",
        details={"state": state, "page": page.number},
    )
    return _render(
        request,
        "reminders.html",
        {
            "page": page,
            "state": state,
            "states": Reminder.State.choices,
            "has_sender": reminder_service.reminder_sender() is not None,
        },
    )
