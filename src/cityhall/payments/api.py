"""JSON API of payments for the logged-in resident: their charges and one slip.

- ``GET /me/payments``: the resident's charges with their installments and the number
  of each installment's slip;
- ``GET /me/payments/notices/{number}``: one slip: the eL-QR content, the eL番号, the
  convenience-store barcode digits, amount, dates and status.

Session authentication like the procedures' resident API (``/me/applications``).
A notice that is not the resident's is "not found" whether it exists or not. Errors are
problem details (:mod:`cityhall.core.problems`). Shapes in :mod:`.schemas`; what is
shown comes from :mod:`cityhall.payments.services.resident`, the same as the pages.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language
from ninja import Router

from cityhall.core.problems import problem_response
from cityhall.payments.models import Channel, PaymentNotice
from cityhall.payments.schemas import ChargeOut, ElNumberOut, InstallmentOut, NoticeOut
from cityhall.payments.services import resident as mine
from cityhall.people.api import ResidentAuth
from cityhall.procedures.schemas import Problem

router = Router(tags=["payments"])

RESIDENT_AUTH = ResidentAuth()
ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 404: Problem, 429: Problem}


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _language() -> str:
    return (get_language() or "ja").lower()


@router.get(
    "/me/payments",
    response={200: list[ChargeOut], **ERRORS},
    auth=RESIDENT_AUTH,
    summary="My payments",
)
def my_payments(request: HttpRequest) -> Any:
    """The resident's charges (newest fiscal year first) with every installment: what is
    due, what is being confirmed and what is paid, and the slip to pay each one with."""
    data = mine.statement(_user(request), language=_language())
    channels = dict(Channel.choices)
    by_charge: dict[int, tuple[Any, list[InstallmentOut]]] = {}
    for row in sorted(
        [r for g in [*data.due, *data.paid] for r in g.rows],
        key=lambda r: (-r.charge.fiscal_year, r.charge.kind.code, r.charge.reference),
    ):
        installment = row.installment
        out = InstallmentOut(
            period=installment.period,
            amount_yen=installment.amount_yen,
            due_date=installment.due_date,
            status=installment.status,
            overdue=row.overdue,
            paid_yen=installment.paid_yen,
            paid_on=installment.paid_on,
            paid_channel=installment.paid_channel or None,
            paid_channel_label=(
                str(channels[installment.paid_channel]) if installment.paid_channel else None
            ),
            notice_number=row.notice.notice_number if row.notice else None,
        )
        by_charge.setdefault(row.charge.pk, (row, []))[1].append(out)
    result = []
    for row, installments in by_charge.values():
        charge = row.charge
        installments.sort(key=lambda i: i.period)
        result.append(
            ChargeOut(
                kind=charge.kind.code,
                kind_name=row.kind_name,
                fiscal_year=charge.fiscal_year,
                tax_year=charge.tax_year,
                reference=charge.reference,
                status=charge.status,
                total_yen=charge.total_yen,
                open_yen=sum(
                    max(i.amount_yen - i.paid_yen, 0) for i in installments if i.status == "open"
                ),
                installments=installments,
            )
        )
    return result


def _url(name: str, number: str) -> str | None:
    try:
        return reverse(name, args=[number])
    except NoReverseMatch:  # pragma: no cover - a view that is not installed
        return None


def _notice_out(notice: PaymentNotice) -> NoticeOut:
    installment = notice.installment
    charge = installment.charge
    state = mine.paid_notice_state(notice)
    payable = state == "active"
    el = mine.el_number(notice)
    online = mine.online_payable(notice)
    following = mine.replacement(notice) if state == "superseded" else None
    return NoticeOut(
        notice_number=notice.notice_number,
        status=state,
        payable=payable,
        amount_yen=notice.amount_yen,
        due_date=notice.due_date,
        pay_by=notice.pay_by,
        overdue=payable and notice.due_date < timezone.localdate(),
        kind=charge.kind.code,
        kind_name=charge.kind.localized_name(_language()),
        fiscal_year=charge.fiscal_year,
        period=installment.period,
        reference=charge.reference,
        elqr_payload=notice.elqr_payload if payable else None,
        el_number=ElNumberOut(
            institution_code=el.institution_code,
            notice_number=el.notice_number,
            check_number=el.check_number,
            tax_code=el.tax_code,
        ),
        cvs_barcode=(notice.cvs_barcode or None) if payable else None,
        online_payment=online,
        pay_url=_url("payments:pay", notice.notice_number) if online else None,
        pdf_url=_url("payments:notice_pdf", notice.notice_number) if payable else None,
        replaced_by=following.notice_number if following else None,
    )


@router.get(
    "/me/payments/notices/{number}",
    response={200: NoticeOut, **ERRORS},
    auth=RESIDENT_AUTH,
    summary="One of my payment slips",
)
def my_notice(request: HttpRequest, number: str) -> Any:
    """A slip of the resident's: what a bank or wallet app needs to pay it."""
    notice = mine.own_notice(_user(request), number)
    if notice is None:
        return problem_response("not-found", request)
    return _notice_out(notice)
