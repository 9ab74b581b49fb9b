"""Online payments in the staff console: the list (filters), one payment with its events and
refunds, and the refund form.

Thin views over :mod:`cityhall.payments.services.online`. ``StaffMFAMiddleware`` keeps
them behind a TOTP-verified staff session; seeing them needs
:func:`permissions.can_reconcile` (the collection staff), refunding
:func:`permissions.can_refund` (a manager of the collection department or an
administrator). Opening a payment is audited (it shows the payer).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.core.forms import AccessibleFormMixin
from cityhall.payments import permissions
from cityhall.payments.models import OnlinePayment, Refund
from cityhall.payments.services import online
from cityhall.people.staff_views import sections

SECTION = "paystaff:online"
PER_PAGE = 50


class OnlineFilterForm(AccessibleFormMixin, forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("Any")), *OnlinePayment.State.choices],
    )
    date_from = forms.DateField(
        label=gettext_lazy("Started from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("Started until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = forms.CharField(
        label=gettext_lazy("Notice number, charge number or provider's id"),
        required=False,
        max_length=80,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class RefundForm(AccessibleFormMixin, forms.Form):
    amount = forms.IntegerField(
        label=gettext_lazy("Amount to refund (yen)"),
        min_value=1,
        help_text=gettext_lazy("Whole yen. The whole payment unless you change it."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the audit log and shown on this page."),
    )

    def __init__(self, *args: Any, left: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.left = left
        self.fields["amount"].widget.attrs["max"] = str(left)

    def clean_amount(self) -> int:
        amount = int(self.cleaned_data["amount"])
        if amount > self.left:
            raise forms.ValidationError(
                _("Enter an amount from 1 to %(left)s yen.") % {"left": f"{self.left:,}"}
            )
        return amount


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("staff_sections", sections(request.user))
    context.setdefault("staff_section", SECTION)
    return render(request, f"payments/staff/{template}", context, status=status)


def _check(request: HttpRequest) -> None:
    if not permissions.can_reconcile(request.user):
        raise PermissionDenied


@require_GET
def payments(request: HttpRequest) -> HttpResponse:
    """Online payments, newest first, filtered by state, date and number."""
    _check(request)
    form = OnlineFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        qs = online.staff_payments(
            state=data.get("state") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            query=data.get("q") or "",
        )
        raw = request.GET.get("page", "1")
        number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
        page = Paginator(qs, PER_PAGE).get_page(number)
    return _render(
        request,
        "online_list.html",
        {"form": form, "page": page},
        status=422 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def payment_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    """One online payment: its state, events, refunds; refund (and check with the provider)."""
    _check(request)
    try:
        op = online.staff_payment(pk, actor=request.user, request=request)
    except OnlinePayment.DoesNotExist as exc:
        raise Http404("no such online payment") from exc
    can_refund = permissions.can_refund(request.user)
    left = online.refundable_yen(op)
    form = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "check":
            refreshed = online.refresh(op, via="staff", request=request)
            if refreshed.reachable:
                messages.success(request, _("Checked with the payment service."))
            else:
                messages.error(request, _("The payment service cannot be reached just now."))
            return redirect("paystaff:online_payment", pk=op.pk)
        if not can_refund:
            raise PermissionDenied
        if action == "retry_refund":
            item = op.refunds.filter(pk=request.POST.get("refund", "")).first()
            if item is None:
                raise Http404("no such refund")
            try:
                online.retry_refund(item, actor=request.user, request=request)
                messages.success(request, _("The refund was sent again."))
            except online.OnlineError as exc:
                messages.error(request, exc.message)
            return redirect("paystaff:online_payment", pk=op.pk)
        form = RefundForm(request.POST, left=left)
        if form.is_valid():
            try:
                item = online.refund(
                    op,
                    form.cleaned_data["amount"],
                    form.cleaned_data["reason"],
                    actor=request.user,
                    request=request,
                )
            except online.OnlineError as exc:
                form.add_error(None, exc.message)
            else:
                if item.state == Refund.State.SUCCESS:
                    messages.success(request, _("The refund was made."))
                elif item.state == Refund.State.FAILED:
                    messages.error(request, _("The payment service refused the refund."))
                else:
                    messages.success(
                        request, _("The refund was sent; the payment service will confirm it.")
                    )
                return redirect("paystaff:online_payment", pk=op.pk)
        status = 422
    if form is None and can_refund and left > 0 and op.state == OnlinePayment.State.SUCCESS:
        form = RefundForm(initial={"amount": left}, left=left)
    return _render(
        request,
        "online_detail.html",
        {
            "payment": op,
            "notice": op.notice,
            "charge": op.notice.installment.charge,
            "events": list(op.events.all()),
            "refunds": list(op.refunds.select_related("requested_by")),
            "ledger": getattr(op, "payment", None) if _has_payment(op) else None,
            "form": form,
            "can_refund": can_refund,
            "left": left,
        },
        status=status,
    )


def _has_payment(op: OnlinePayment) -> bool:
    try:
        op.payment  # noqa: B018
    except OnlinePayment.payment.RelatedObjectDoesNotExist:
        return False
    return True
