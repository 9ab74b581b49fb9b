"""Charges (調定): making them, who sees them, linking payers to residents, cancelling.

- :func:`create_charge` makes one charge with its installments (期別) and issues a slip
  (納付書) for each installment through :mod:`cityhall.payments.services.notices`.
  Imports of whole files go through :mod:`.charge_import` instead (set-based).
- :func:`charges_for_resident` is what a resident may see: only charges whose
  ``resident`` is them. :func:`visible_charges` is what a clerk may see (all for the
  collection division and administrators, their department's kinds for others).
- :func:`link_payer` ties a payer of the core systems (宛名番号) to a resident's account
  after the clerk checked identity: the payer's charges, present and future, show on
  the resident's page. :func:`unlink_payer` undoes it.
- :func:`cancel_charge` cancels what is still open of a charge (賦課取消).

Every change is audited; so is every staff read of a charge (personal data).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.payments import permissions
from cityhall.payments.models import (
    Charge,
    Installment,
    PayerAccount,
    PaymentKind,
    PaymentNotice,
)
from cityhall.people.models import User

MAX_AMOUNT_YEN = 99_999_999_999  # 11 digits: the eL-QR amount field
REFERENCE = re.compile(r"^[0-9A-Za-z-]{1,20}$")
PAYER_KEY = re.compile(r"^[0-9A-Za-z-]{1,20}$")


class ChargeError(Exception):
    """A change the charges service refuses; ``code`` is stable, ``message`` translated."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


# --- text helpers --------------------------------------------------------------------------


def normalize_kana(text: str) -> str:
    """Full-width katakana with single spaces: half-width ｲｶﾞ and hiragana いが become イガ."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)
    return " ".join(text.split())


def normalize_name(text: str) -> str:
    """NFKC (full-width letters and digits folded) with single half-width spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def normalize_postal_code(text: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else ""


# --- making charges ------------------------------------------------------------------------


def _kind(kind: PaymentKind | str) -> PaymentKind:
    if isinstance(kind, PaymentKind):
        return kind
    from cityhall.payments.services import kinds

    return kinds.get_kind(kind)


def _check_installments(installments: Sequence[tuple[int, int, dt.date]]) -> None:
    if not installments:
        raise ChargeError("no_installments", _("A charge needs at least one installment."))
    periods: set[int] = set()
    for period, amount, due in installments:
        if type(period) is not int or not 1 <= period <= 99 or period in periods:
            raise ChargeError("period", _("Installment periods must be distinct, 1 to 99."))
        periods.add(period)
        if type(amount) is not int or not 1 <= amount <= MAX_AMOUNT_YEN:
            raise ChargeError("amount", _("Amounts are whole yen, at least 1."))
        if not isinstance(due, dt.date) or isinstance(due, dt.datetime):
            raise ChargeError("due_date", _("Each installment needs a due date."))


def resident_for_payer(payer_key: str) -> User | None:
    link = PayerAccount.objects.filter(payer_key=payer_key).select_related("user").first()
    return link.user if link else None


def create_charge(
    *,
    kind: PaymentKind | str,
    fiscal_year: int,
    tax_year: int,
    reference: str,
    payer: Mapping[str, Any],
    installments: Sequence[tuple[int, int, dt.date]],
    source: str = Charge.Source.MANUAL,
    application: Any = None,
    resident: User | None = None,
    actor: User | None = None,
    request: Any = None,
) -> Charge:
    """One charge with its installments, each with a slip issued.

    ``payer`` holds ``key`` (宛名番号), ``name`` and optionally ``kana``, ``postal_code``,
    ``address``. Without ``resident`` the payer link (:class:`PayerAccount`) decides who
    sees it. Raises :class:`ChargeError` when the input is wrong or the charge (same
    kind, fiscal year and reference) exists already.
    """
    from cityhall.payments.services import notices

    kind = _kind(kind)
    reference = str(reference).strip()
    payer_key = str(payer.get("key") or payer.get("payer_key") or "").strip()
    name = normalize_name(str(payer.get("name") or ""))
    if not REFERENCE.match(reference):
        raise ChargeError("reference", _("The charge number is 1 to 20 letters or digits."))
    if not PAYER_KEY.match(payer_key):
        raise ChargeError("payer_key", _("The payer number is 1 to 20 letters or digits."))
    if not name:
        raise ChargeError("payer_name", _("The payer's name is missing."))
    _check_installments(installments)
    if resident is None:
        resident = resident_for_payer(payer_key)
    try:
        with transaction.atomic():
            charge = Charge.objects.create(
                kind=kind,
                fiscal_year=int(fiscal_year),
                tax_year=int(tax_year),
                reference=reference,
                payer_key=payer_key,
                payer_name=name[:120],
                payer_kana=normalize_kana(str(payer.get("kana") or ""))[:200],
                payer_postal_code=normalize_postal_code(str(payer.get("postal_code") or "")),
                payer_address=str(payer.get("address") or "").strip(),
                resident=resident,
                source=source,
                application=application,
                total_yen=sum(amount for _p, amount, _d in installments),
            )
            rows = [
                Installment.objects.create(
                    charge=charge, period=period, amount_yen=amount, due_date=due
                )
                for period, amount, due in sorted(installments)
            ]
            for installment in rows:
                notices.issue_notice(installment)
            audit.record(
                "payments.charge_created",
                request=request,
                actor=actor,
                target=charge,
                subject=resident,
                details={
                    "kind": kind.code,
                    "fiscal_year": charge.fiscal_year,
                    "reference": reference,
                    "source": source,
                    "total_yen": charge.total_yen,
                    "installments": len(rows),
                },
            )
    except IntegrityError as exc:
        if Charge.objects.filter(kind=kind, fiscal_year=fiscal_year, reference=reference).exists():
            raise ChargeError(
                "exists", _("A charge with this kind, fiscal year and number exists already.")
            ) from exc
        raise
    return charge


# --- who sees what -------------------------------------------------------------------------


def charges_for_resident(user: Any, *, include_cancelled: bool = False) -> QuerySet[Charge]:
    """The resident's own charges (``Charge.resident == user``), newest fiscal year first."""
    if not getattr(user, "is_authenticated", False):
        return Charge.objects.none()
    qs = Charge.objects.filter(resident=user).select_related("kind")
    if not include_cancelled:
        qs = qs.exclude(status=Charge.Status.CANCELLED)
    return qs.order_by("-fiscal_year", "kind__code", "reference")


def visible_charges(user: Any) -> QuerySet[Charge]:
    """The charges a member of staff may see (``permissions.charge_department_ids``)."""
    ids = permissions.charge_department_ids(user)
    qs = Charge.objects.select_related("kind", "kind__department")
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(kind__department_id__in=ids)


def visible_kinds(user: Any) -> QuerySet[PaymentKind]:
    ids = permissions.charge_department_ids(user)
    qs = PaymentKind.objects.all().order_by("code")
    if ids is None:
        return qs
    return qs.filter(department_id__in=ids)


def search_charges(
    user: Any,
    *,
    q: str = "",
    kind: PaymentKind | int | None = None,
    fiscal_year: int | None = None,
    status: str = "",
) -> QuerySet[Charge]:
    """Staff search among the visible charges.

    ``q`` finds a payer number (宛名番号), a charge number (調定番号) or a notice number
    (案件特定キー, 20 digits; spaces and hyphens ignored) exactly, or else words of
    the payer's name or kana (each word must match; hiragana and half-width kana are
    folded to katakana).
    """
    qs = visible_charges(user)
    if kind is not None:
        qs = qs.filter(kind_id=getattr(kind, "pk", kind))
    if fiscal_year is not None:
        qs = qs.filter(fiscal_year=fiscal_year)
    if status:
        qs = qs.filter(status=status)
    q = unicodedata.normalize("NFKC", q or "").strip()
    if q:
        compact = re.sub(r"[\s-]", "", q)
        if compact.isascii() and compact.isalnum():
            notice_charges = PaymentNotice.objects.filter(notice_number=compact).values(
                "installment__charge_id"
            )
            qs = qs.filter(
                Q(payer_key=compact)
                | Q(reference=compact)
                | Q(payer_key=q)
                | Q(reference=q)
                | Q(pk__in=notice_charges)
            )
        else:
            for word in q.split():
                qs = qs.filter(
                    Q(payer_name__icontains=word) | Q(payer_kana__icontains=normalize_kana(word))
                )
    return qs.order_by("-fiscal_year", "kind__code", "reference", "pk")


def get_for_staff(user: Any, pk: int) -> Charge:
    """A charge the clerk may see; ``Charge.DoesNotExist`` otherwise (the view says 404)."""
    return visible_charges(user).get(pk=pk)


def record_view(charge: Charge, *, actor: Any, request: Any = None) -> None:
    """A clerk opened a charge: the payer's name, address and payments are personal data."""
    audit.record(
        "payments.charge_viewed",
        request=request,
        actor=actor,
        target=charge,
        subject=charge.resident_id,
        details={"kind": charge.kind.code, "reference": charge.reference},
    )


def installments_of(charge: Charge) -> list[Installment]:
    return list(charge.installment_set.order_by("period"))


def notices_of(charge: Charge) -> list[PaymentNotice]:
    return list(
        PaymentNotice.objects.filter(installment__charge=charge)
        .select_related("installment")
        .order_by("installment__period", "reissue")
    )


# --- payer links ---------------------------------------------------------------------------


def link_payer(payer_key: str, user: User, *, actor: User, request: Any = None) -> int:
    """Link the payer number to the resident's account; return how many charges now show.

    Linking the same pair again changes nothing; a payer number linked to someone else
    is refused (unlink it first).
    """
    if getattr(user, "is_staff", False):
        raise ChargeError("staff", _("Payers are linked to residents' accounts, not staff."))
    with transaction.atomic():
        link = PayerAccount.objects.select_for_update().filter(payer_key=payer_key).first()
        if link is not None and link.user_id != user.pk:
            raise ChargeError(
                "linked_elsewhere",
                _("This payer number is linked to another account. Unlink it first."),
            )
        if link is None:
            link = PayerAccount.objects.create(payer_key=payer_key, user=user, linked_by=actor)
        changed = (
            Charge.objects.filter(payer_key=payer_key)
            .exclude(resident=user)
            .filter(application__isnull=True)
            .update(resident=user)
        )
        total = Charge.objects.filter(payer_key=payer_key, resident=user).count()
        audit.record(
            "payments.payer_linked",
            request=request,
            actor=actor,
            target=link,
            subject=user,
            details={"payer_key": payer_key, "charges_changed": changed, "charges": total},
        )
    return total


def unlink_payer(payer_key: str, *, actor: User, request: Any = None) -> int:
    """Remove the payer link; the payer's imported charges no longer show to anyone."""
    with transaction.atomic():
        link = PayerAccount.objects.select_for_update().filter(payer_key=payer_key).first()
        if link is None:
            raise ChargeError("not_linked", _("This payer number is not linked to an account."))
        user_id = link.user_id
        changed = (
            Charge.objects.filter(payer_key=payer_key, resident_id=user_id)
            .filter(application__isnull=True)
            .update(resident=None)
        )
        audit.record(
            "payments.payer_unlinked",
            request=request,
            actor=actor,
            target=link,
            subject=user_id,
            details={"payer_key": payer_key, "charges_changed": changed},
        )
        link.delete()
    return changed


def find_resident(email: str) -> User | None:
    """The resident account with this e-mail address (case-insensitive), not staff."""
    email = (email or "").strip()
    if not email:
        return None
    return User.objects.filter(email__iexact=email, is_staff=False, is_active=True).first()


# --- cancelling ----------------------------------------------------------------------------


def cancel_charge(charge: Charge, reason: str, *, actor: User, request: Any = None) -> Charge:
    """賦課取消: the open installments and their valid slips are cancelled; paid ones stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ChargeError("reason", _("Say why the charge is cancelled."))
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.status == Charge.Status.CANCELLED:
            raise ChargeError("cancelled", _("This charge is cancelled already."))
        open_ids = list(
            Installment.objects.filter(charge=locked, status=Installment.Status.OPEN).values_list(
                "pk", flat=True
            )
        )
        Installment.objects.filter(pk__in=open_ids).update(status=Installment.Status.CANCELLED)
        slips = PaymentNotice.objects.filter(
            installment_id__in=open_ids, status=PaymentNotice.Status.ACTIVE
        ).update(status=PaymentNotice.Status.CANCELLED)
        locked.status = Charge.Status.CANCELLED
        locked.save(update_fields=["status"])
        audit.record(
            "payments.charge_cancelled",
            request=request,
            actor=actor,
            target=locked,
            subject=locked.resident_id,
            details={
                "reason": reason,
                "installments_cancelled": len(open_ids),
                "notices_cancelled": slips,
            },
        )
    charge.status = locked.status
    return locked


# --- slips for staff -----------------------------------------------------------------------


def notice_for_staff(user: Any, number: str) -> PaymentNotice:
    """A slip of a charge the clerk may see; ``PaymentNotice.DoesNotExist`` otherwise."""
    return (
        PaymentNotice.objects.select_related("installment__charge__kind")
        .filter(installment__charge__in=visible_charges(user))
        .get(notice_number=number)
    )


def slip_pdf_for_staff(notice: PaymentNotice, *, actor: User, request: Any = None) -> bytes:
    """The slip as PDF for the clerk to print or hand over; the download is audited."""
    from cityhall.payments.services import notices

    charge = notice.installment.charge
    pdf = notices.pdf_for_notice(notice)
    audit.record(
        "payments.slip_downloaded",
        request=request,
        actor=actor,
        target=notice,
        subject=charge.resident_id,
        details={"notice_number": notice.notice_number, "charge": charge.pk},
    )
    return pdf


def open_installments(charge: Charge) -> Iterable[Installment]:
    return charge.installment_set.filter(status=Installment.Status.OPEN).order_by("period")
