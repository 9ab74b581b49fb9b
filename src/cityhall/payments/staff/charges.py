"""Charges (調定) in the staff console: the list, one charge, its actions, the imports page.

Thin views over :mod:`cityhall.payments.services.charges` and
:mod:`~cityhall.payments.services.charge_import`. ``StaffMFAMiddleware`` keeps them
behind a TOTP-verified staff session; a clerk sees only the charges of their
department's kinds (another department's charge answers 404); the imports page is for
the collection division (``permissions.can_reconcile``). Opening a charge is audited.

The charge page also takes the cancel and unlink actions as POSTs to itself
(``action=cancel`` / ``action=unlink``).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.payments import permissions
from cityhall.payments.models import (
    Charge,
    ImportedFile,
    Installment,
    PayerAccount,
    Payment,
    PaymentNotice,
)
from cityhall.payments.services import charge_import, notices
from cityhall.payments.services import charges as service
from cityhall.payments.staff.charge_forms import (
    CancelForm,
    ChargeFilterForm,
    ImportForm,
    LinkPayerForm,
    ReissueForm,
)
from cityhall.people.models import User
from cityhall.people.staff_views import sections

SECTION = "paystaff:charges"
PER_PAGE = 50
FILTER_KEYS = ("q", "kind", "fiscal_year", "status")
HISTORY = 30
SHOWN_PROBLEMS = 200


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    context.setdefault("can_import", permissions.can_reconcile(request.user))
    return render(request, f"payments/staff/{template}", context, status=status)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _check(request: HttpRequest) -> None:
    if not permissions.can_use_charges(request.user):
        raise PermissionDenied


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def _filter_query(data: QueryDict) -> str:
    query = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = data.get(key, "").strip()
        if value:
            query[key] = value
    return query.urlencode()


# --- the list -------------------------------------------------------------------------------


@require_GET
def charge_list(request: HttpRequest) -> HttpResponse:
    _check(request)
    user = _actor(request)
    form = ChargeFilterForm(request.GET or None, user=user)
    page = None
    if not form.is_bound or form.is_valid():
        qs = service.search_charges(user, **form.filters())
        page = Paginator(qs, PER_PAGE).get_page(_page_number(request))
    return _render(
        request,
        "charge_list.html",
        {
            "form": form,
            "page": page,
            "filters": _filter_query(request.GET),
            "today": timezone.localdate(),
        },
        status=422 if form.errors else 200,
    )


# --- one charge -----------------------------------------------------------------------------


def _charge(request: HttpRequest, pk: int) -> Charge:
    _check(request)
    try:
        return service.get_for_staff(request.user, pk)
    except Charge.DoesNotExist as exc:
        raise Http404 from exc


def _detail(
    request: HttpRequest,
    charge: Charge,
    *,
    status: int = 200,
    reissue_forms: dict[int, ReissueForm] | None = None,
    link_form: LinkPayerForm | None = None,
    cancel_form: CancelForm | None = None,
) -> HttpResponse:
    service.record_view(charge, actor=_actor(request), request=request)
    installments = service.installments_of(charge)
    given = reissue_forms or {}
    rows = []
    for installment in installments:
        form = None
        if installment.status == Installment.Status.OPEN and charge.status == Charge.Status.OPEN:
            form = given.get(installment.pk) or ReissueForm(prefix=f"reissue-{installment.pk}")
        rows.append({"installment": installment, "form": form})
    link = PayerAccount.objects.filter(payer_key=charge.payer_key).select_related("user").first()
    link_form = link_form or LinkPayerForm()
    cancel_form = cancel_form or CancelForm()
    error_form = next(
        (f for f in [*given.values(), link_form, cancel_form] if f.is_bound and f.errors), None
    )
    payments = list(
        Payment.objects.filter(installment__charge=charge)
        .select_related("installment", "notice")
        .order_by("paid_on", "pk")
    )
    return _render(
        request,
        "charge_detail.html",
        {
            "charge": charge,
            "rows": rows,
            "notices": service.notices_of(charge),
            "payments": payments,
            "link": link,
            "link_form": link_form,
            "cancel_form": cancel_form,
            "form": error_form,
            "can_link": charge.application_id is None,
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def charge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    charge = _charge(request, pk)
    if request.method == "GET":
        return _detail(request, charge)
    action = request.POST.get("action", "")
    if action == "cancel":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                service.cancel_charge(
                    charge, form.cleaned_data["reason"], actor=_actor(request), request=request
                )
            except service.ChargeError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The charge is cancelled."))
                return redirect("paystaff:charge", pk=charge.pk)
        return _detail(request, charge, status=422, cancel_form=form)
    if action == "unlink":
        try:
            service.unlink_payer(charge.payer_key, actor=_actor(request), request=request)
        except service.ChargeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The payer is no longer linked to the account."))
        return redirect("paystaff:charge", pk=charge.pk)
    raise Http404


@require_POST
def reissue(request: HttpRequest, pk: int) -> HttpResponse:
    """A new slip for an open installment, with a new due date (audited by the notices service)."""
    _check(request)
    installment = get_object_or_404(
        Installment.objects.select_related("charge__kind"),
        pk=pk,
        charge__in=service.visible_charges(request.user),
    )
    charge = installment.charge
    form = ReissueForm(request.POST, prefix=f"reissue-{installment.pk}")
    if form.is_valid():
        try:
            notice = notices.reissue(
                installment,
                due_date=form.cleaned_data["due_date"],
                actor=_actor(request),
                request=request,
            )
        except notices.NoticeError as exc:
            form.add_error("due_date", str(exc))
        else:
            messages.success(
                request,
                _("A new slip %(number)s is issued; the old one is replaced.")
                % {"number": notice.notice_number},
            )
            return redirect(f"{reverse('paystaff:charge', args=[charge.pk])}#installments")
    return _detail(request, charge, status=422, reissue_forms={installment.pk: form})


@require_POST
def link_payer(request: HttpRequest, pk: int) -> HttpResponse:
    charge = _charge(request, pk)
    form = LinkPayerForm(request.POST)
    if charge.application_id is not None:
        raise Http404
    if form.is_valid():
        try:
            count = service.link_payer(
                charge.payer_key, form.cleaned_data["email"], actor=_actor(request), request=request
            )
        except service.ChargeError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(
                request,
                _("The payer is linked: %(count)s charges show on the resident's page.")
                % {"count": count},
            )
            return redirect("paystaff:charge", pk=charge.pk)
    return _detail(request, charge, status=422, link_form=form)


@require_GET
def notice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The slip as PDF for the clerk (to print or hand over); audited."""
    _check(request)
    try:
        notice = service.notice_for_staff(request.user, number)
    except PaymentNotice.DoesNotExist as exc:
        raise Http404 from exc
    pdf = service.slip_pdf_for_staff(notice, actor=_actor(request), request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="slip-{notice.notice_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- imports --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a charges file from a core system and see what became of it."""
    if not permissions.can_reconcile(request.user):
        raise PermissionDenied
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        outcome = charge_import.run_import(
            upload.read(), filename=upload.name, actor=_actor(request), request=request
        )
        target = f"{reverse('paystaff:imports')}?file={outcome.file.pk}"
        if outcome.duplicate:
            target += "&duplicate=1"
        return redirect(target + "#result")
    shown = None
    raw = request.GET.get("file", "")
    if raw.isdigit() and len(raw) < 12:
        shown = ImportedFile.objects.filter(kind=ImportedFile.Kind.CHARGES, pk=int(raw)).first()
    problems = list(shown.problems[:SHOWN_PROBLEMS]) if shown is not None else []
    history = list(
        ImportedFile.objects.filter(kind=ImportedFile.Kind.CHARGES).select_related("uploaded_by")[
            :HISTORY
        ]
    )
    return _render(
        request,
        "imports.html",
        {
            "form": form,
            "shown": shown,
            "duplicate": request.GET.get("duplicate") == "1" and shown is not None,
            "problems": problems,
            "problems_total": (shown.summary or {}).get("problems", len(problems)) if shown else 0,
            "history": history,
            "layout": [
                (aliases[0], charge_import.LABELS[key], required)
                for key, (aliases, required) in charge_import.COLUMNS.items()
            ],
        },
        status=422 if form.errors else 200,
    )
