"""My payments: what a resident owes and has paid, each slip on screen, and its PDF.

Thin views over :mod:`cityhall.payments.services.resident`. Residents only (visitors go
to the login page, staff to the staff console). A resident sees only their own charges:
any other notice number, existing or not, is the same 404 — never a 403 that would tell
that the number exists.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cityhall.payments.models import Channel, PaymentNotice
from cityhall.payments.services import notices
from cityhall.payments.services import resident as mine
from cityhall.payments.slips import qr
from cityhall.people.models import Department
from cityhall.procedures.views.common import language, resident_required

#: CSS pixels per QR module on screen: version 6 is 41 modules + 4 quiet-zone modules on
#: each side = 49 modules, so 6 px gives a 294 px code — large enough for a wallet or
#: bank app to read from the screen, and still inside a 360 px phone.
QR_SCALE = 6


def qr_svg(payload: str, *, label: str) -> SafeString:
    """The eL-QR as inline SVG (the slips module's drawing, the same as on paper)."""
    return mark_safe(qr.svg(payload, scale=QR_SCALE, label=label))  # noqa: S308 (built from digits)


def _contact() -> Department | None:
    """The collection division (収納課) residents ask about payments."""
    return Department.objects.filter(code=settings.PAYMENT_CENTRAL_DEPARTMENT).first()


def _pay_url(notice: PaymentNotice) -> str | None:
    try:
        return reverse("payments:pay", args=[notice.notice_number])
    except NoReverseMatch:  # pragma: no cover - the online payment views are not installed
        return None


@resident_required
def my_payments(request: HttpRequest) -> HttpResponse:
    """What is due and what is paid, by fiscal year; an explanation when there is nothing."""
    lang = language()
    data = mine.statement(request.user, language=lang)
    return render(
        request,
        "payments/mine.html",
        {
            "statement": data,
            "contact": _contact(),
            "channels": dict(Channel.choices),
        },
    )


def _own_or_404(request: HttpRequest, number: str) -> PaymentNotice:
    notice = mine.own_notice(request.user, number)
    if notice is None:
        raise Http404("no such notice of this resident")
    return notice


@resident_required
def notice_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One slip on screen: the eL-QR to scan, the eL番号 to type, and every way to pay."""
    notice = _own_or_404(request, number)
    lang = language()
    installment = notice.installment
    charge = installment.charge
    state = mine.paid_notice_state(notice)
    payable = state == "active"
    kind_name = charge.kind.localized_name(lang)
    qr = None
    if payable and notice.elqr_payload:
        qr = qr_svg(
            notice.elqr_payload,
            label=_("eL-QR code of this payment slip: %(amount)s yen, %(kind)s")
            % {"amount": f"{notice.amount_yen:,}", "kind": kind_name},
        )
    online = mine.online_payable(notice)
    return render(
        request,
        "payments/notice.html",
        {
            "notice": notice,
            "installment": installment,
            "charge": charge,
            "kind_name": kind_name,
            "wareki": mine.wareki(charge.fiscal_year),
            "amount_text": mine.yen(notice.amount_yen),
            "contact": _contact(),
            "periods": charge.installment_set.count(),
            "state": state,
            "payable": payable,
            "overdue": payable and notice.due_date < timezone.localdate(),
            "qr": qr,
            "el": mine.el_number(notice),
            "replacement": mine.replacement(notice) if state == "superseded" else None,
            "pay_url": _pay_url(notice) if online else None,
            "online_limit": f"{int(settings.PAYMENT_ONLINE_LIMIT_YEN):,}",
            "channels": dict(Channel.choices),
        },
    )


@resident_required
def notice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The printable slip (A4, in Japanese) to take to a store or a bank."""
    notice = _own_or_404(request, number)
    if mine.paid_notice_state(notice) in ("superseded", "cancelled"):
        # An old slip would be refused or become an exception: the page explains why.
        return redirect("payments:notice", notice.notice_number)
    data = notices.pdf_for_notice(notice)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="payment-slip-{notice.notice_number}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
