"""Notices (納付書): issue, reissue and render the slips — and the city's numbering.

This module is the ONE place where the city's numbering lives, so that it can be
aligned with the eLTAX registration and the collection agent's contract later.

Notice number (案件特定キー, 20 digits; the eL-QR's and the eL番号's 納付番号)::

    YYYY  TTT  IIIIIIIIIIII  R
    │     │    │             └─ 再発行区分: reissue digit 0–9
    │     │    └─ installment id (期別 row), zero-padded to 12 digits
    │     └─ 税目・料金番号 of the kind (3 digits)
    └─ 賦課年度 (fiscal year, western)

  Unique (an installment id exists once and has one notice per reissue digit),
  stable (depends only on the installment and the reissue), numeric, and a clerk can
  read the year, the kind and the reissue off a number a resident reads out.

Check number (確認番号, 6 digits)::

    HMAC-SHA256(key=settings.PAYMENT_SECRET, msg="<notice number>:<amount yen>")
    → the digest as a big-endian integer, mod 1,000,000, zero-padded

  Nobody can compute it without the secret, so a slip cannot be forged from a notice
  number a payer reads out; it changes with the amount (a reissue for another amount
  gets another check number) and with the secret.

Convenience-store free field (21 digits, positions 9–29 of the GS1-128 code)::

    TTT  YY  IIIIIIIIIIIIII  PP
    │    │   │               └─ 期別 (period, 2 digits)
    │    │   └─ installment id, zero-padded to 14 digits
    │    └─ fiscal year, last 2 digits
    └─ 税目・料金番号

  The reissue digit is the barcode's own 再発行区分 (position 30), so each reissue has
  a different barcode and the old slip is still recognised when it comes back.

  A barcode is printed only when the kind allows store payment
  (``PaymentKind.cvs_allowed``) and the amount is at most
  ``settings.PAYMENT_CVS_LIMIT_YEN`` (300,000 yen by default); above that the slip
  carries the eL-QR only.

Pay-by date (支払期限: the last day a store or app accepts the slip): the due date
(納期限) plus ``CITYHALL_PAYMENT_PAY_BY_DAYS`` (14 by default) days. Reason: a resident
who is a few days late can still pay with the slip they hold — the late-payment charge
(延滞金) for those days is below the 1,000 yen the law lets the city leave uncollected
for ordinary amounts — and the agent stops accepting the slip before a reissue would
be needed. After it, the city reissues with a new due date. Both dates are written into
the eL-QR (tag 62) and the pay-by date into the barcode.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.payments.codes import cvs, elqr
from cityhall.payments.models import Installment, PaymentKind, PaymentNotice
from cityhall.payments.slips.data import SlipData

NOTICE_NUMBER_LENGTH = 20
CHECK_NUMBER_LENGTH = 6
FREE_FIELD_LENGTH = 21
MAX_REISSUE = 9
BULK_BATCH = 2000

#: Installments in these states get no (new) slip.
CLOSED_STATES = frozenset(
    {Installment.Status.PAID, Installment.Status.PROVISIONAL, Installment.Status.CANCELLED}
)


class NoticeError(ValueError):
    """A slip that cannot be issued or reissued; the message is translated, for the clerk."""


# --- the numbering -----------------------------------------------------------------------


def compose_notice_number(
    *, fiscal_year: int, tax_code: str, installment_id: int, reissue: int
) -> str:
    """The 20-digit 案件特定キー: year(4) + tax code(3) + installment id(12) + reissue(1)."""
    if not 0 <= reissue <= MAX_REISSUE:
        raise NoticeError(_("The reissue number must be between 0 and 9."))
    if not (len(tax_code) == 3 and tax_code.isdigit()):
        raise NoticeError(_("The tax code (税目・料金番号) must be 3 digits."))
    if not 0 < installment_id < 10**12 or not 1000 <= fiscal_year <= 9999:
        raise NoticeError(_("The installment cannot be numbered."))
    return f"{fiscal_year:04d}{tax_code}{installment_id:012d}{reissue:d}"


def notice_number_for(installment: Installment, reissue: int = 0) -> str:
    charge = installment.charge
    return compose_notice_number(
        fiscal_year=charge.fiscal_year,
        tax_code=charge.kind.tax_code,
        installment_id=installment.pk,
        reissue=reissue,
    )


@dataclass(frozen=True)
class NoticeNumberParts:
    fiscal_year: int
    tax_code: str
    installment_id: int
    reissue: int


def split_notice_number(number: str) -> NoticeNumberParts:
    """Read a notice number back into its parts (raises :class:`NoticeError`)."""
    if len(number) != NOTICE_NUMBER_LENGTH or not number.isdigit():
        raise NoticeError(_("A notice number has 20 digits."))
    return NoticeNumberParts(int(number[:4]), number[4:7], int(number[7:19]), int(number[19]))


def check_number_for(notice_number: str, amount: int) -> str:
    """The 6-digit 確認番号: HMAC-SHA256 of ``"<notice number>:<amount>"`` under the secret."""
    key = str(settings.PAYMENT_SECRET).encode()
    digest = hmac.new(key, f"{notice_number}:{int(amount)}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest, 'big') % 10**CHECK_NUMBER_LENGTH:06d}"


def cvs_free_field(*, tax_code: str, fiscal_year: int, installment_id: int, period: int) -> str:
    """The 21-digit free field: tax code(3) + year(2) + installment id(14) + period(2)."""
    field = f"{tax_code}{fiscal_year % 100:02d}{installment_id:014d}{period:02d}"
    if len(field) != FREE_FIELD_LENGTH or not field.isdigit():
        raise NoticeError(_("The installment cannot be numbered."))
    return field


def cvs_allowed_for(amount: int, kind_cvs_allowed: bool) -> bool:
    """Whether a slip for ``amount`` yen carries the convenience-store barcode."""
    limit = min(int(settings.PAYMENT_CVS_LIMIT_YEN), cvs.MAX_AMOUNT)
    return kind_cvs_allowed and 0 < amount <= limit


def cvs_barcode_for(
    *,
    tax_code: str,
    fiscal_year: int,
    installment_id: int,
    period: int,
    reissue: int,
    pay_by: dt.date,
    amount: int,
    kind_cvs_allowed: bool = True,
) -> str:
    """The 44-digit GS1-128 content, or ``""`` when no barcode may be printed."""
    if not cvs_allowed_for(amount, kind_cvs_allowed):
        return ""
    return cvs.build(
        cvs.CvsBarcode(
            company_code=str(settings.PAYMENT_CVS_COMPANY_CODE),
            free_field=cvs_free_field(
                tax_code=tax_code,
                fiscal_year=fiscal_year,
                installment_id=installment_id,
                period=period,
            ),
            reissue=reissue,
            pay_by=pay_by,
            amount=amount,
        )
    )


def default_pay_by(due_date: dt.date) -> dt.date:
    return due_date + dt.timedelta(days=settings.PAYMENT_PAY_BY_DAYS)


@dataclass(frozen=True)
class _KindInfo:
    tax_code: str
    cvs_allowed: bool


def _build_notice(
    *,
    installment_id: int,
    period: int,
    amount: int,
    fiscal_year: int,
    tax_year: int,
    kind: _KindInfo,
    reissue: int,
    due_date: dt.date,
    pay_by: dt.date,
) -> PaymentNotice:
    """An unsaved notice with every code computed (no query)."""
    if pay_by < due_date:
        raise NoticeError(_("The last day at a store cannot be before the due date."))
    number = compose_notice_number(
        fiscal_year=fiscal_year,
        tax_code=kind.tax_code,
        installment_id=installment_id,
        reissue=reissue,
    )
    check = check_number_for(number, amount)
    payload = elqr.build(
        elqr.ElQr(
            amount=amount,
            tax_code=kind.tax_code,
            notice_number=number,
            check_number=check,
            institution_code=str(settings.PAYMENT_MUNICIPALITY_CODE),
            office_code=str(settings.PAYMENT_OFFICE_CODE),
            fiscal_year=fiscal_year,
            tax_year=tax_year,
            period=period,
            due_date=due_date,
            pay_by=pay_by,
        )
    )
    barcode = cvs_barcode_for(
        tax_code=kind.tax_code,
        fiscal_year=fiscal_year,
        installment_id=installment_id,
        period=period,
        reissue=reissue,
        pay_by=pay_by,
        amount=amount,
        kind_cvs_allowed=kind.cvs_allowed,
    )
    return PaymentNotice(
        installment_id=installment_id,
        notice_number=number,
        reissue=reissue,
        check_number=check,
        amount_yen=amount,
        due_date=due_date,
        pay_by=pay_by,
        elqr_payload=payload,
        cvs_barcode=barcode,
        status=PaymentNotice.Status.ACTIVE,
    )


def _outstanding(installment: Installment) -> int:
    return int(installment.amount_yen) - int(installment.paid_yen or 0)


# --- issuing ------------------------------------------------------------------------------


def issue_notice(
    installment: Installment,
    *,
    due_date: dt.date | None = None,
    pay_by: dt.date | None = None,
) -> PaymentNotice:
    """The first slip (reissue 0) of an installment. Idempotent: when the installment
    already has a slip, the active one (or else the latest) is returned unchanged."""
    with transaction.atomic():
        locked = (
            Installment.objects.select_for_update()
            .select_related("charge__kind")
            .get(pk=installment.pk)
        )
        existing = list(PaymentNotice.objects.filter(installment=locked).order_by("-reissue"))
        if existing:
            active = [n for n in existing if n.status == PaymentNotice.Status.ACTIVE]
            return active[0] if active else existing[0]
        if locked.status in CLOSED_STATES:
            raise NoticeError(_("This instalment is paid or cancelled: it needs no slip."))
        due = due_date or locked.due_date
        charge = locked.charge
        notice = _build_notice(
            installment_id=locked.pk,
            period=locked.period,
            amount=_outstanding(locked),
            fiscal_year=charge.fiscal_year,
            tax_year=charge.tax_year,
            kind=_KindInfo(charge.kind.tax_code, charge.kind.cvs_allowed),
            reissue=0,
            due_date=due,
            pay_by=pay_by or default_pay_by(due),
        )
        notice.save()
        return notice


def issue_for_installments(installment_ids: Iterable[int]) -> int:
    """Issue the first slip of many installments at once (imports of 100k rows).

    Reads with ``values()`` in batches of :data:`BULK_BATCH`, skips installments that
    already have a slip or are paid or cancelled, and writes with ``bulk_create``: a
    fixed number of queries per batch, none per row. Returns the number of slips issued.
    """
    ids = sorted({int(i) for i in installment_ids})
    if not ids:
        return 0
    kinds = {
        row["id"]: _KindInfo(row["tax_code"], row["cvs_allowed"])
        for row in PaymentKind.objects.values("id", "tax_code", "cvs_allowed")
    }
    has_notice = PaymentNotice.objects.filter(installment=OuterRef("pk"))
    issued = 0
    with transaction.atomic():
        for start in range(0, len(ids), BULK_BATCH):
            rows = (
                Installment.objects.filter(pk__in=ids[start : start + BULK_BATCH])
                .exclude(status__in=list(CLOSED_STATES))
                .exclude(Exists(has_notice))
                .values(
                    "id",
                    "period",
                    "amount_yen",
                    "paid_yen",
                    "due_date",
                    "charge__fiscal_year",
                    "charge__tax_year",
                    "charge__kind_id",
                )
            )
            batch = [
                _build_notice(
                    installment_id=row["id"],
                    period=row["period"],
                    amount=int(row["amount_yen"]) - int(row["paid_yen"] or 0),
                    fiscal_year=row["charge__fiscal_year"],
                    tax_year=row["charge__tax_year"],
                    kind=kinds[row["charge__kind_id"]],
                    reissue=0,
                    due_date=row["due_date"],
                    pay_by=default_pay_by(row["due_date"]),
                )
                for row in rows
            ]
            PaymentNotice.objects.bulk_create(batch, batch_size=500)
            issued += len(batch)
    return issued


def reissue(
    installment: Installment,
    *,
    due_date: dt.date,
    actor: Any,
    request: HttpRequest | None = None,
    pay_by: dt.date | None = None,
) -> PaymentNotice:
    """A new slip with the next reissue digit, a new due date, pay-by date, check number
    and barcode; the slip it replaces becomes ``SUPERSEDED`` (``superseded_by`` points to
    the new one) and stays recognisable when it is paid anyway. Audited.

    Refused (:class:`NoticeError`) for a paid, provisionally paid or cancelled
    installment, for a due date in the past, and after the ninth reissue.
    """
    with transaction.atomic():
        locked = (
            Installment.objects.select_for_update()
            .select_related("charge__kind")
            .get(pk=installment.pk)
        )
        if locked.status in CLOSED_STATES:
            raise NoticeError(
                _("This instalment is paid or cancelled: its slip cannot be reissued.")
            )
        if due_date < timezone.localdate():
            raise NoticeError(_("The new due date cannot be in the past."))
        amount = _outstanding(locked)
        if amount <= 0:
            raise NoticeError(_("Nothing is left to pay on this instalment."))
        notices = list(
            PaymentNotice.objects.select_for_update()
            .filter(installment=locked)
            .order_by("-reissue")
        )
        if any(n.status == PaymentNotice.Status.PAID for n in notices):
            raise NoticeError(_("A slip of this instalment is already paid."))
        next_reissue = notices[0].reissue + 1 if notices else 0
        if next_reissue > MAX_REISSUE:
            raise NoticeError(
                _(
                    "This slip has been reissued %(max)d times, the most a slip number "
                    "allows. Collect the payment at the counter instead."
                )
                % {"max": MAX_REISSUE}
            )
        charge = locked.charge
        new = _build_notice(
            installment_id=locked.pk,
            period=locked.period,
            amount=amount,
            fiscal_year=charge.fiscal_year,
            tax_year=charge.tax_year,
            kind=_KindInfo(charge.kind.tax_code, charge.kind.cvs_allowed),
            reissue=next_reissue,
            due_date=due_date,
            pay_by=pay_by or default_pay_by(due_date),
        )
        new.save()
        replaced = [n for n in notices if n.status == PaymentNotice.Status.ACTIVE]
        PaymentNotice.objects.filter(pk__in=[n.pk for n in replaced]).update(
            status=PaymentNotice.Status.SUPERSEDED, superseded_by=new
        )
        audit.record(
            "payments.notice_reissued",
            request=request,
            actor=actor,
            target=new,
            subject=charge.resident_id,
            details={
                "installment": locked.pk,
                "notice_number": new.notice_number,
                "reissue": new.reissue,
                "superseded": [n.notice_number for n in replaced],
                "due_date": due_date.isoformat(),
                "pay_by": new.pay_by.isoformat(),
                "amount_yen": amount,
            },
        )
        return new


# --- what is printed ----------------------------------------------------------------------


def issuer_name() -> str:
    """Who issues the slips: the mayor (e.g. 伊賀市長)."""
    return f"{settings.MUNICIPALITY_NAME}長"


def contact_for(kind: PaymentKind) -> str:
    """e.g. 伊賀市 収納課 0595-22-9620: the department that owns the kind."""
    department = kind.department
    parts = [str(settings.MUNICIPALITY_NAME), department.name, department.phone]
    return " ".join(p for p in parts if p)


def slip_data(notice: PaymentNotice) -> SlipData:
    """Everything the renderer prints for ``notice`` (plain data, no database)."""
    installment = notice.installment
    charge = installment.charge
    kind = charge.kind
    return SlipData(
        notice_number=notice.notice_number,
        check_number=notice.check_number,
        tax_code=kind.tax_code,
        institution_code=str(settings.PAYMENT_MUNICIPALITY_CODE),
        kind_name=kind.name,
        fiscal_year=charge.fiscal_year,
        period=installment.period,
        amount_yen=int(notice.amount_yen),
        due_date=notice.due_date,
        pay_by=notice.pay_by,
        payer_name=charge.payer_name,
        payer_postal_code=charge.payer_postal_code,
        payer_address=charge.payer_address,
        charge_reference=charge.reference,
        elqr_payload=notice.elqr_payload,
        cvs_barcode=notice.cvs_barcode,
        reissue=notice.reissue,
        issued_on=timezone.localdate(notice.issued_at),
        issuer=issuer_name(),
        contact=contact_for(kind),
        account_code=kind.account_code,
    )


def slip_queryset() -> Any:
    """Notices with everything :func:`slip_data` reads joined in (one query per batch)."""
    return PaymentNotice.objects.select_related("installment__charge__kind__department")


def pdf_for_notice(notice: PaymentNotice) -> bytes:
    """One slip as a PDF (A4, one page)."""
    from cityhall.payments.slips import pdf

    return pdf.render_bytes([slip_data(notice)])
