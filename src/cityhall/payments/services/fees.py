"""Procedure fees as charges (手数料).

A procedure whose ``fee_hook`` is ``"payments.fee"`` sends the resident, after
submission, to :func:`fee_url` — the fee page (``payments:fee``), where the online
payment view calls :func:`charge_for_application` and offers the slip and online payment.

The charge of an application:

- kind ``tesuryo`` (手数料), one per application (``Charge.application`` is one-to-one:
  calling again returns the same charge);
- amount = the fee per copy (``Application.fee_yen``, taken from the procedure when the
  application started) × the ``copies`` answer when the form has one (1 otherwise);
- one installment, due 14 days after the charge is made (:data:`FEE_DUE_DAYS`);
- payer: the applicant — name as given in the form (``Application.applicant_name``,
  else the account's display name), ``resident`` = the applicant's account (no payer
  link needed), payer number ``APP-<application reference>``;
- charge number (調定番号): the digits of the application reference (``YYYY-NNNNNNN-C``
  → ``YYYYNNNNNNNC``), fiscal year = the 年度 of the day the charge is made.

When an installment of such a charge is paid (``payments.signals.installment_paid``),
the application's fee is marked paid
(:func:`cityhall.procedures.services.applications.set_fee_status`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.payments import signals
from cityhall.payments.models import Charge, Installment, PaymentKind
from cityhall.payments.services import kinds
from cityhall.payments.services.charges import ChargeError, create_charge

FEE_DUE_DAYS = 14
FEE_HOOK = "payments.fee"
logger = logging.getLogger(__name__)
PAYER_PREFIX = "APP-"
DUE_STATUSES = ("due",)


def copies_of(application: Any) -> int:
    """The ``copies`` answer (通数), 1 when the form has none or it is not a whole number."""
    data = getattr(application, "data", None) or {}
    value = data.get("copies") if isinstance(data, dict) else None
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value if value >= 1 else 1
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number >= 1 else 1
    return 1


def fee_amount(application: Any) -> int:
    return int(application.fee_yen or 0) * copies_of(application)


def fee_url(application: Any) -> str | None:
    """Where the resident pays: the fee page, while the submitted application's fee is due."""
    if not application.reference or not application.fee_yen:
        return None
    if application.status == "withdrawn":
        return None
    if application.fee_status not in DUE_STATUSES:
        return None
    return reverse("payments:fee", args=[application.reference])


def charge_reference(application: Any) -> str:
    return re.sub(r"\D", "", application.reference)


def _payer_name(application: Any) -> str:
    name = (application.applicant_name or "").strip()
    if not name:
        applicant = application.applicant
        name = (getattr(applicant, "display_name", "") or applicant.email).strip()
    return name


def _payer_kana(application: Any) -> str:
    value = (application.data or {}).get("applicant_name")
    if not isinstance(value, dict):
        return ""
    parts = (value.get("family_kana"), value.get("given_kana"))
    return " ".join(p for p in parts if isinstance(p, str) and p)


def _answer_text(application: Any, *keys: str) -> str:
    data = application.data or {}
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def charge_for_application(application: Any, *, today: dt.date | None = None) -> Charge:
    """The fee charge of a submitted application, made the first time (idempotent)."""
    existing = Charge.objects.filter(application_id=application.pk).first()
    if existing is not None:
        return existing
    if not application.reference:
        raise ChargeError("not_submitted", _("The application has not been sent yet."))
    amount = fee_amount(application)
    if amount <= 0:
        raise ChargeError("no_fee", _("This application has no fee."))
    today = today or timezone.localdate()
    fiscal_year = kinds.fiscal_year_of(today)
    try:
        with transaction.atomic():
            return create_charge(
                kind=kinds.get_kind(kinds.FEE_KIND),
                fiscal_year=fiscal_year,
                tax_year=fiscal_year,
                reference=charge_reference(application),
                payer={
                    "key": f"{PAYER_PREFIX}{application.reference}",
                    "name": _payer_name(application),
                    "kana": _payer_kana(application),
                    "postal_code": _answer_text(application, "applicant_postal_code"),
                    "address": _answer_text(application, "applicant_address"),
                },
                installments=[(1, amount, today + dt.timedelta(days=FEE_DUE_DAYS))],
                source=Charge.Source.PROCEDURE,
                application=application,
                resident=application.applicant,
            )
    except (IntegrityError, ChargeError):
        # Two requests at once: the other one made it.
        existing = Charge.objects.filter(application_id=application.pk).first()
        if existing is None:
            raise
        return existing


def _on_installment_paid(sender: Any, installment: Installment, **kwargs: Any) -> None:
    charge = installment.charge
    if charge.application_id is None:
        return
    unpaid = (
        Installment.objects.filter(charge_id=charge.pk)
        .exclude(status__in=(Installment.Status.PAID, Installment.Status.PROVISIONAL))
        .exclude(status=Installment.Status.CANCELLED)
        .exists()
    )
    if unpaid:
        return
    from cityhall.procedures.services import applications

    applications.set_fee_status(charge.application_id, "paid")


def _on_application_submitted(sender: Any, application: Any, **kwargs: Any) -> None:
    """Make the fee charge (and its slip) as soon as the application is sent, so the
    collection division sees what is due even before the resident opens the fee page."""
    if application.procedure.fee_hook != FEE_HOOK or fee_amount(application) <= 0:
        return
    try:
        charge_for_application(application)
    except (ChargeError, PaymentKind.DoesNotExist):
        # No 手数料 kind yet (``cityhall seed`` not run): the fee page makes it later.
        logger.warning("no fee charge for %s", application.reference, exc_info=True)


def connect_signals() -> None:
    from cityhall.procedures import signals as procedure_signals

    signals.installment_paid.connect(
        _on_installment_paid, dispatch_uid="cityhall.payments.fees.installment_paid"
    )
    procedure_signals.application_submitted.connect(
        _on_application_submitted, dispatch_uid="cityhall.payments.fees.application_submitted"
    )
