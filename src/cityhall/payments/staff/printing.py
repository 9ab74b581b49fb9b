"""Batch printing of slips in the staff console (/staff/payments/print/).

Thin views over :mod:`cityhall.payments.services.printing`: the list of runs with the
form that starts one (it shows how many slips it would print first), one run with its
progress bar (polled every 2 s by ``payments/print-progress.js``; without JavaScript a
refresh link), the parts to download (each download audited), and a resume button
for a stopped run. Only the central collection department and administrators
(:func:`cityhall.payments.permissions.can_reconcile`); ``StaffMFAMiddleware`` keeps
the pages behind a TOTP-verified staff session.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.payments import permissions
from cityhall.payments.models import PrintRun, PrintRunPart
from cityhall.payments.services import printing
from cityhall.payments.staff.printing_forms import NewRunForm
from cityhall.people.staff_views import sections

SECTION = "paystaff:print"
LIST_SIZE = 50


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"payments/staff/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_reconcile(request.user):
        raise PermissionDenied


def _progress(run: PrintRun) -> dict[str, Any]:
    percent = (100 * run.printed // run.total) if run.total else 0
    return {
        "run": run,
        "percent": percent,
        "final": run.status in (PrintRun.Status.DONE, PrintRun.Status.FAILED),
        "can_resume": printing.can_resume(run),
    }


@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = NewRunForm(request.POST or None)
    count: int | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if request.POST.get("action") == "start":
                try:
                    run = printing.create_run(
                        title=form.run_title(),
                        params=form.params(),
                        actor=request.user,
                        request=request,
                    )
                except printing.PrintError as exc:
                    form.add_error(None, str(exc))
                    status = 400
                else:
                    messages.success(
                        request,
                        _("Print run started: %(count)s slips.") % {"count": f"{run.total:,}"},
                    )
                    return redirect("paystaff:print_run", pk=run.pk)
            else:
                count = printing.count_notices(form.params())
        else:
            status = 400
    return _render(
        request,
        "print_runs.html",
        {
            "form": form,
            "count": count,
            "runs": list(printing.runs_for_listing()[:LIST_SIZE]),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request)
    run = get_object_or_404(PrintRun, pk=pk)
    if request.method == "POST":
        try:
            printing.resume(run.pk, actor=request.user, request=request)
        except printing.PrintError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The run continues at its first unprinted part."))
        return redirect("paystaff:print_run", pk=run.pk)
    context = _progress(run)
    context["parts"] = list(run.parts.all())
    return _render(request, "print_run.html", context)


@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request)
    run = get_object_or_404(PrintRun, pk=pk)
    response = render(request, "payments/staff/print_progress.html", _progress(run))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def part_pdf(request: HttpRequest, pk: int, number: int) -> FileResponse:
    _check(request)
    part = get_object_or_404(PrintRunPart.objects.select_related("run"), run_id=pk, number=number)
    path = printing.part_file(part)
    if not path.is_file():
        raise Http404
    printing.record_download(part, actor=request.user, request=request)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"print-run-{pk}-part-{number:04d}.pdf",
        content_type="application/pdf",
    )
