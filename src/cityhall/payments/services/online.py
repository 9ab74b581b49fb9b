"""Card and wallet payments online through the provider's hosted payment page.

The lessons of GOV.UK Pay, kept here:

- **An explicit state machine** (:data:`TRANSITIONS`). ``created`` (the row and its
  idempotency key are stored *before* the provider is called) → ``started`` (the
  resident was sent to the provider's page) → ``success`` | ``failed`` | ``cancelled``
  | ``error``. Finished states never change, except ``success`` → ``refunded`` when all
  of it has been given back. A provider that later claims success for a payment we hold
  as failed is recorded as a conflict for staff, never silently applied.
- **Idempotency keys everywhere.** One :class:`OnlinePayment` per (notice, attempt),
  its key derived from the notice and the attempt number and unique in the database, so
  a double click cannot make two payments: the second request finds the first one and
  gets the same hosted page. A call that failed on the way (timeout, refused
  connection, 5xx) is sent again later with the *same* key and the *same* body.
- **Never trust the return address.** The resident coming back, and a webhook, only
  make us *ask the provider* (:func:`refresh`); its answer moves the state. Both paths
  are idempotent: the ledger row (:class:`Payment`, one-to-one with the online
  payment) is written once.
- **Webhooks are signed** (HMAC-SHA256 with a timestamp, checked in the provider
  adapter) and each ``event_id`` is processed once (``OnlinePaymentEvent``).

Money is integer yen. Every change is audited (``payments.online_*``,
``payments.refund_*``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.payments import permissions, providers
from cityhall.payments.models import (
    Channel,
    Charge,
    Installment,
    OnlinePayment,
    OnlinePaymentEvent,
    Payment,
    PaymentNotice,
    Refund,
)
from cityhall.payments.providers.base import (
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    ProviderPayment,
    WebhookEvent,
)
from cityhall.payments.services import resident

State = OnlinePayment.State

#: The allowed state changes. Anything else is refused (and recorded as "ignored").
TRANSITIONS: dict[str, frozenset[str]] = {
    State.CREATED: frozenset(
        {State.STARTED, State.SUCCESS, State.FAILED, State.CANCELLED, State.ERROR}
    ),
    State.STARTED: frozenset({State.SUCCESS, State.FAILED, State.CANCELLED, State.ERROR}),
    State.SUCCESS: frozenset({State.REFUNDED}),
    State.FAILED: frozenset(),
    State.CANCELLED: frozenset(),
    State.ERROR: frozenset(),
    State.REFUNDED: frozenset(),
}
FINISHED = frozenset({State.SUCCESS, State.FAILED, State.CANCELLED, State.ERROR, State.REFUNDED})
IN_FLIGHT = frozenset({State.CREATED, State.STARTED})

#: The provider's status → our state.
FROM_PROVIDER: dict[str, str] = {
    "created": State.STARTED,
    "started": State.STARTED,
    "submitted": State.STARTED,
    "success": State.SUCCESS,
    "failed": State.FAILED,
    "cancelled": State.CANCELLED,
    "error": State.ERROR,
}

#: A started payment younger than this is reused when the resident presses "Pay" again.
REUSE_WINDOW = dt.timedelta(minutes=30)

AUDIT_ACTIONS: dict[str, str] = {
    State.STARTED: "payments.online_started",
    State.SUCCESS: "payments.online_succeeded",
    State.FAILED: "payments.online_failed",
    State.CANCELLED: "payments.online_cancelled",
    State.ERROR: "payments.online_error",
    State.REFUNDED: "payments.online_refunded",
}


class OnlineError(Exception):
    """Why a payment or a refund cannot go ahead, in words for the person in front.

    ``code``: ``not_found``, ``not_payable``, ``not_allowed``, ``over_limit``,
    ``already_paid``, ``provider_unavailable`` (retryable: nothing is lost, try again),
    ``provider_refused``, ``not_refundable``, ``refund_amount``.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


# --- what may be paid online ----------------------------------------------------------------


def online_limit() -> int:
    return int(settings.PAYMENT_ONLINE_LIMIT_YEN)


def refusal(notice: PaymentNotice) -> OnlineError | None:
    """Why this slip cannot be paid online now, or ``None`` when it can."""
    installment = notice.installment
    charge = installment.charge
    if installment.status in (Installment.Status.PAID, Installment.Status.PROVISIONAL) or (
        notice.status == PaymentNotice.Status.PAID
    ):
        return OnlineError("already_paid", _("This has already been paid."))
    if (
        notice.status != PaymentNotice.Status.ACTIVE
        or installment.status != Installment.Status.OPEN
        or charge.status != Charge.Status.OPEN
    ):
        return OnlineError("not_payable", _("This payment slip can no longer be paid."))
    if not charge.kind.online_allowed or not providers.online_enabled():
        return OnlineError(
            "not_allowed", _("This kind of payment cannot be paid by card or wallet online.")
        )
    if notice.amount_yen <= 0 or notice.amount_yen > online_limit():
        return OnlineError(
            "over_limit",
            _(
                "Amounts over %(limit)s yen cannot be paid online. Please use the payment "
                "slip at a convenience store, a bank or a payment app."
            )
            % {"limit": f"{online_limit():,}"},
        )
    if OnlinePayment.objects.filter(notice__installment=installment, state=State.SUCCESS).exists():
        return OnlineError("already_paid", _("This has already been paid."))
    return None


def can_pay_online(notice: PaymentNotice) -> bool:
    return refusal(notice) is None


# --- the state machine ----------------------------------------------------------------------


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def _event(
    op: OnlinePayment,
    kind: str,
    *,
    from_state: str = "",
    to_state: str = "",
    event_id: str = "",
    data: dict[str, Any] | None = None,
) -> OnlinePaymentEvent:
    return OnlinePaymentEvent.objects.create(
        payment=op,
        kind=kind[:30],
        from_state=from_state,
        to_state=to_state,
        provider_event_id=event_id,
        data=data or {},
    )


def _move(
    op: OnlinePayment,
    to_state: str,
    *,
    kind: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    event_id: str = "",
) -> None:
    """Change the state of a locked row (inside a transaction), with its event and audit."""
    if not can_transition(op.state, to_state):
        raise ValueError(f"{op.state} → {to_state} is not allowed")
    from_state = op.state
    op.state = to_state
    op.save(update_fields=["state", "failure_reason", "method", "updated_at"])
    _event(op, kind, from_state=from_state, to_state=to_state, event_id=event_id, data=data)
    audit.record(
        AUDIT_ACTIONS[to_state],
        request=request,
        actor=actor,
        target=op,
        subject=op.payer_id,
        details={
            "from": from_state,
            "to": to_state,
            "amount_yen": op.amount_yen,
            "notice": op.notice.notice_number,
            "provider": op.provider,
            "provider_payment_id": op.provider_payment_id,
            "via": kind,
        },
    )


def _locked(op: OnlinePayment) -> OnlinePayment:
    return (
        OnlinePayment.objects.select_for_update()
        .select_related("notice__installment__charge__kind")
        .get(pk=op.pk)
    )


def _book(op: OnlinePayment) -> Payment:
    """Record the money in the ledger, once (Payment is one-to-one with the online payment)."""
    existing = Payment.objects.filter(online_payment=op).first()
    if existing is not None:
        return existing
    from cityhall.payments.services import ledger

    return ledger.record_payment(
        notice=op.notice,
        amount_yen=op.amount_yen,
        channel=Channel.ONLINE,
        state=Payment.State.FINAL,
        paid_on=timezone.localdate(),
        online_payment=op,
    )


def apply_provider_state(
    op: OnlinePayment,
    payment: ProviderPayment,
    *,
    via: str,
    event_id: str = "",
    request: HttpRequest | None = None,
) -> OnlinePayment:
    """Move ``op`` to where the provider says it stands (only by an allowed transition).

    Idempotent: telling it twice changes nothing the second time, and the ledger row
    is written once. Called with what :meth:`PaymentProvider.get_payment` answered —
    never with what a query string or an unchecked body claims.
    """
    with transaction.atomic():
        op = _locked(op)
        target = FROM_PROVIDER[payment.state.status]
        data = {
            "status": payment.state.status,
            "code": payment.state.code,
            "message": payment.state.message,
        }
        if payment.method and not op.method:
            op.method = payment.method
        if target == op.state:
            if event_id:
                _event(op, via, event_id=event_id, data=data)
            if op.state == State.SUCCESS:
                _book(op)
            return op
        if (
            target == State.SUCCESS
            and payment.amount is not None
            and payment.amount != op.amount_yen
        ):
            _conflict(op, via, event_id, {**data, "amount": payment.amount}, request)
            return op
        if not can_transition(op.state, target):
            if target == State.SUCCESS and op.state in FINISHED:
                _conflict(op, via, event_id, data, request)
            else:
                _event(
                    op,
                    "ignored",
                    from_state=op.state,
                    to_state=target,
                    event_id=event_id,
                    data=data,
                )
            return op
        if target in (State.FAILED, State.CANCELLED, State.ERROR):
            op.failure_reason = " ".join(
                part for part in (payment.state.code, payment.state.message) if part
            )[:200]
        _move(op, target, kind=via, request=request, data=data, event_id=event_id)
        if target == State.SUCCESS:
            _book(op)
        return op


def _conflict(
    op: OnlinePayment,
    via: str,
    event_id: str,
    data: dict[str, Any],
    request: HttpRequest | None,
) -> None:
    """The provider says something our finished state refuses: keep ours, tell staff."""
    _event(op, "conflict", from_state=op.state, event_id=event_id, data={**data, "via": via})
    audit.record(
        "payments.online_conflict",
        request=request,
        target=op,
        subject=op.payer_id,
        details={"state": op.state, "provider_says": data, "amount_yen": op.amount_yen},
    )


# --- starting a payment ---------------------------------------------------------------------


def idempotency_key(notice: PaymentNotice, attempt: int) -> str:
    """The key of attempt ``attempt`` at paying ``notice``: the same for the same attempt
    (so a double click meets the unique constraint), unguessable, and different after a
    database reset (the notice's issue time is in it)."""
    message = f"online:{notice.pk}:{notice.notice_number}:{notice.issued_at.isoformat()}:{attempt}"
    digest = hmac.new(
        str(settings.PAYMENT_SECRET).encode(), message.encode(), hashlib.sha256
    ).hexdigest()
    return f"op-{digest[:48]}"


def _return_url(op: OnlinePayment, request: HttpRequest | None) -> str:
    path = reverse("payments:return", args=[op.pk])
    if request is not None:
        return request.build_absolute_uri(path)
    return str(settings.SITE_URL) + path


def _request_body(op: OnlinePayment, request: HttpRequest | None) -> dict[str, Any]:
    notice = op.notice
    charge = notice.installment.charge
    # The same for every retry of this attempt, whatever language the resident uses now:
    # a retry with the same key must carry the same body.
    return PaymentRequest(
        amount=op.amount_yen,
        reference=notice.notice_number,
        description=f"{charge.kind.name} {charge.fiscal_year}年度 "
        f"第{notice.installment.period}期 {charge.reference}",
        return_url=_return_url(op, request),
        metadata={
            "online_payment_id": str(op.pk),
            "notice_number": notice.notice_number,
            "charge_reference": charge.reference,
        },
    ).body()


def _sent_body(op: OnlinePayment) -> dict[str, Any] | None:
    event = op.events.filter(kind="created").order_by("id").first()
    if event is None:
        return None
    body = event.data.get("request")
    return body if isinstance(body, dict) else None


def _next_url(op: OnlinePayment) -> str:
    event = op.events.filter(kind="provider_created").order_by("-id").first()
    return str(event.data.get("next_url", "")) if event else ""


def _reserve(
    notice: PaymentNotice, user: Any, provider: str, request: HttpRequest | None
) -> OnlinePayment:
    """The attempt to use: an in-flight one of this resident for this slip (a CREATED one
    whose call failed, or a STARTED one younger than :data:`REUSE_WINDOW`), else a new
    one stored with its key before anyone talks to the provider."""
    for _round in range(3):
        since = timezone.now() - REUSE_WINDOW
        reusable = (
            OnlinePayment.objects.filter(notice=notice, payer=user, provider=provider)
            .filter(Q(state=State.CREATED) | Q(state=State.STARTED, created_at__gte=since))
            .order_by("-created_at")
            .first()
        )
        if reusable is not None:
            return reusable
        attempt = OnlinePayment.objects.filter(notice=notice).count() + 1
        op = OnlinePayment(
            notice=notice,
            payer=user,
            amount_yen=notice.amount_yen,
            provider=provider,
            idempotency_key=idempotency_key(notice, attempt),
        )
        try:
            with transaction.atomic():
                op.save(force_insert=True)
                _event(
                    op,
                    "created",
                    to_state=State.CREATED,
                    data={"attempt": attempt, "request": _request_body(op, request)},
                )
                audit.record(
                    "payments.online_created",
                    request=request,
                    actor=user,
                    target=op,
                    subject=user,
                    details={
                        "notice": notice.notice_number,
                        "amount_yen": op.amount_yen,
                        "attempt": attempt,
                        "provider": provider,
                    },
                )
            return op
        except IntegrityError:
            continue  # a parallel request took this attempt: use theirs
    raise OnlineError(
        "provider_unavailable",
        _("Too many payments were started at once. Please try again."),
        retryable=True,
    )


def _check_older_attempts(notice: PaymentNotice, provider: PaymentProvider) -> None:
    """Before a new attempt, ask about started ones past the reuse window: one of them may
    have been paid in another tab (then this slip is paid and no new attempt is made)."""
    stale = OnlinePayment.objects.filter(
        notice=notice, provider=provider.name, state=State.STARTED
    ).exclude(provider_payment_id="")
    for op in stale[:5]:
        try:
            apply_provider_state(op, provider.get_payment(op.provider_payment_id), via="recheck")
        except ProviderError:
            continue


def start_payment(
    notice: PaymentNotice, user: Any, *, request: HttpRequest | None = None
) -> tuple[OnlinePayment, str]:
    """Start (or continue) paying ``notice`` online; returns the payment and the address to
    send the resident to (the provider's page, or our return page when already finished).

    Raises :class:`OnlineError` (``not_found`` for anyone else's slip).
    """
    # Whose slip it is: the one rule of the resident pages (their own charges only).
    own = resident.own_notice(user, notice.notice_number)
    if own is None or own.pk != notice.pk:
        raise OnlineError("not_found", _("Not found."))
    notice = own
    provider = providers.get_provider()
    if problem := refusal(notice):
        raise problem
    _check_older_attempts(notice, provider)
    if problem := refusal(notice):
        raise problem
    op = _reserve(notice, user, provider.name, request)
    if op.state == State.STARTED and op.provider_payment_id:
        try:
            current = provider.get_payment(op.provider_payment_id)
        except ProviderError as exc:
            if exc.retryable and (url := _next_url(op)):
                return op, url
            raise _unavailable(op, exc) from exc
        op = apply_provider_state(op, current, via="reuse", request=request)
        if op.state == State.STARTED:
            return op, current.next_url or _next_url(op) or _return_url(op, request)
        if op.state == State.SUCCESS:
            return op, _return_url(op, request)
        # The earlier attempt ended (declined, cancelled): start a fresh one.
        op = _reserve(notice, user, provider.name, request)
    return _send(op, provider, request=request, actor=user)


def _unavailable(op: OnlinePayment, exc: ProviderError) -> OnlineError:
    _event(op, "provider_unavailable", data={"error": exc.message, "status": exc.status})
    return OnlineError(
        "provider_unavailable",
        _(
            "The payment service cannot be reached just now. Nothing was charged. "
            "Please try again in a few minutes."
        ),
        retryable=True,
    )


def _send(
    op: OnlinePayment, provider: PaymentProvider, *, request: HttpRequest | None, actor: Any
) -> tuple[OnlinePayment, str]:
    """Create the payment at the provider with the attempt's key and stored body."""
    body = _sent_body(op) or _request_body(op, request)
    try:
        created = provider.create_payment(
            PaymentRequest.from_body(body), idempotency_key=op.idempotency_key
        )
    except ProviderError as exc:
        if exc.retryable:
            raise _unavailable(op, exc) from exc
        with transaction.atomic():
            op = _locked(op)
            if can_transition(op.state, State.ERROR):
                op.failure_reason = exc.message[:200]
                _move(
                    op,
                    State.ERROR,
                    kind="provider_refused",
                    request=request,
                    actor=actor,
                    data={"error": exc.message, "status": exc.status},
                )
        raise OnlineError(
            "provider_refused",
            _(
                "The payment service refused this payment. Nothing was charged. Please pay "
                "with the payment slip instead, or ask the city hall."
            ),
        ) from exc
    if created.amount is not None and created.amount != op.amount_yen:
        with transaction.atomic():
            op = _locked(op)
            op.provider_payment_id = created.payment_id
            op.save(update_fields=["provider_payment_id", "updated_at"])
            op.failure_reason = "amount differs at the provider"
            _move(
                op,
                State.ERROR,
                kind="amount_mismatch",
                request=request,
                actor=actor,
                data={"amount": created.amount},
            )
        raise OnlineError(
            "provider_refused",
            _("The payment service answered with another amount. Nothing was charged."),
        )
    with transaction.atomic():
        op = _locked(op)
        if not op.provider_payment_id:
            op.provider_payment_id = created.payment_id
            op.save(update_fields=["provider_payment_id", "updated_at"])
        _event(
            op,
            "provider_created",
            data={"next_url": created.next_url, "status": created.state.status},
        )
        if not created.state.finished and op.state == State.CREATED:
            _move(op, State.STARTED, kind="redirected", request=request, actor=actor)
    if created.state.finished:
        op = apply_provider_state(op, created, via="created", request=request)
        return op, _return_url(op, request)
    if not created.next_url:
        raise _unavailable(op, ProviderError("no next_url in the answer", retryable=True))
    return op, created.next_url


# --- coming back, and webhooks --------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    payment: OnlinePayment
    reachable: bool


def refresh(
    op: OnlinePayment, *, via: str = "return", request: HttpRequest | None = None
) -> Refreshed:
    """Ask the provider where an unfinished payment stands and move it there."""
    if op.state in FINISHED:
        return Refreshed(op, True)
    if not op.provider_payment_id:
        return Refreshed(op, op.state != State.CREATED)
    try:
        current = providers.get_provider(op.provider).get_payment(op.provider_payment_id)
    except ProviderError as exc:
        _event(op, "provider_unavailable", data={"error": exc.message, "via": via})
        return Refreshed(op, False)
    return Refreshed(apply_provider_state(op, current, via=via, request=request), True)


def own_payment(user: Any, pk: Any) -> OnlinePayment | None:
    """The resident's own online payment, or ``None`` (also for anyone else's)."""
    return (
        OnlinePayment.objects.select_related("notice__installment__charge__kind")
        .filter(pk=pk, payer=user)
        .first()
    )


def handle_webhook(
    provider_name: str, event: WebhookEvent, *, request: HttpRequest | None = None
) -> str:
    """Process a verified webhook once. Returns ``processed``, ``duplicate`` or ``unknown``.

    A payment event makes us ask the provider (as the return page does); a
    :class:`ProviderError` goes up so the webhook is answered with an error and sent
    again later — and its event id is not yet marked as seen.
    """
    if OnlinePaymentEvent.objects.filter(provider_event_id=event.event_id).exists():
        return "duplicate"
    op = OnlinePayment.objects.filter(
        provider=provider_name, provider_payment_id=event.payment_id
    ).first()
    if op is None:
        return "unknown"
    current = None
    if event.type.startswith("payment."):
        current = providers.get_provider(provider_name).get_payment(event.payment_id)
    try:
        with transaction.atomic():
            _event(op, "webhook_received", event_id=event.event_id, data={"type": event.type})
            if current is not None:
                apply_provider_state(op, current, via="webhook", request=request)
            else:
                refund = Refund.objects.filter(
                    online_payment=op, provider_refund_id=event.refund_id
                ).first()
                if refund is None:
                    _event(op, "ignored", data={"type": event.type, "refund_id": event.refund_id})
                elif event.type == "refund.succeeded":
                    _refund_succeeded(refund, request=request)
                else:
                    _refund_failed(refund, reason="refund.failed webhook", request=request)
    except IntegrityError:
        return "duplicate"  # the same event arrived twice at once
    return "processed"


# --- refunds --------------------------------------------------------------------------------


def refundable_yen(op: OnlinePayment) -> int:
    """What is left to refund: paid, less refunded, less refunds still in progress."""
    pending = (
        op.refunds.filter(state=Refund.State.REQUESTED).aggregate(total=Sum("amount_yen"))["total"]
        or 0
    )
    return max(0, op.amount_yen - op.refunded_yen - int(pending))


def refund(
    online_payment: OnlinePayment,
    amount: int,
    reason: str,
    *,
    actor: Any,
    request: HttpRequest | None = None,
) -> Refund:
    """Give back ``amount`` yen (all or part) of a successful online payment.

    Only staff with :func:`permissions.can_refund`. The Refund row and its idempotency
    key are stored before the provider is called; a refund whose call failed on the way
    stays ``requested`` and :func:`retry_refund` sends it again with the same key.
    """
    if not permissions.can_refund(actor):
        raise PermissionDenied
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise OnlineError("refund_amount", _("Enter the amount in whole yen."))
    reason = (reason or "").strip()
    if not reason:
        raise OnlineError("refund_reason", _("Enter the reason for the refund."))
    with transaction.atomic():
        op = _locked(online_payment)
        if op.state != State.SUCCESS:
            raise OnlineError("not_refundable", _("Only a paid online payment can be refunded."))
        left = refundable_yen(op)
        if amount <= 0 or amount > left:
            raise OnlineError(
                "refund_amount",
                _("Enter an amount from 1 to %(left)s yen.") % {"left": f"{left:,}"},
            )
        item = Refund.objects.create(
            online_payment=op,
            amount_yen=amount,
            reason=reason[:300],
            idempotency_key=f"rf-{uuid.uuid4().hex}",
            requested_by=actor,
        )
        _event(op, "refund_requested", data={"refund": str(item.pk), "amount": amount})
        audit.record(
            "payments.refund_requested",
            request=request,
            actor=actor,
            target=op,
            subject=op.payer_id,
            details={"refund": str(item.pk), "amount_yen": amount, "reason": reason[:300]},
        )
    return _send_refund(item, request=request, actor=actor)


def retry_refund(item: Refund, *, actor: Any, request: HttpRequest | None = None) -> Refund:
    """Send a refund whose call failed on the way again, with the same key."""
    if not permissions.can_refund(actor):
        raise PermissionDenied
    if item.state != Refund.State.REQUESTED or item.provider_refund_id:
        raise OnlineError("not_refundable", _("This refund is not waiting to be sent."))
    return _send_refund(item, request=request, actor=actor)


def _send_refund(item: Refund, *, request: HttpRequest | None, actor: Any) -> Refund:
    op = item.online_payment
    assert op is not None
    try:
        answer = providers.get_provider(op.provider).refund(
            op.provider_payment_id, item.amount_yen, idempotency_key=item.idempotency_key
        )
    except ProviderError as exc:
        if exc.retryable:
            _event(op, "provider_unavailable", data={"refund": str(item.pk), "error": exc.message})
            raise OnlineError(
                "provider_unavailable",
                _(
                    "The payment service cannot be reached just now. The refund is saved and "
                    "can be sent again from this page."
                ),
                retryable=True,
            ) from exc
        with transaction.atomic():
            _refund_failed(item, reason=exc.message, request=request, actor=actor)
        raise OnlineError(
            "provider_refused",
            _("The payment service refused the refund: %(detail)s") % {"detail": exc.message},
        ) from exc
    with transaction.atomic():
        item = Refund.objects.select_for_update().get(pk=item.pk)
        if not item.provider_refund_id:
            item.provider_refund_id = answer.refund_id
            item.save(update_fields=["provider_refund_id"])
        if answer.status == "success":
            _refund_succeeded(item, request=request, actor=actor)
        elif answer.status == "error":
            _refund_failed(item, reason="the provider answered error", request=request, actor=actor)
    item.refresh_from_db()
    return item


def _refund_succeeded(
    item: Refund, *, request: HttpRequest | None = None, actor: Any = None
) -> None:
    """Mark a refund done (once); when all is refunded, the payment becomes REFUNDED."""
    with transaction.atomic():
        item = Refund.objects.select_for_update().get(pk=item.pk)
        if item.state != Refund.State.REQUESTED:
            return
        item.state = Refund.State.SUCCESS
        item.save(update_fields=["state"])
        assert item.online_payment is not None
        op = _locked(item.online_payment)
        op.refunded_yen += item.amount_yen
        op.save(update_fields=["refunded_yen", "updated_at"])
        _event(op, "refund_succeeded", data={"refund": str(item.pk), "amount": item.amount_yen})
        audit.record(
            "payments.refund_succeeded",
            request=request,
            actor=actor,
            target=op,
            subject=op.payer_id,
            details={
                "refund": str(item.pk),
                "amount_yen": item.amount_yen,
                "refunded_yen": op.refunded_yen,
            },
        )
        _ledger_refund(op, item.amount_yen)
        if op.refunded_yen >= op.amount_yen and can_transition(op.state, State.REFUNDED):
            _move(op, State.REFUNDED, kind="refunded", request=request, actor=actor)


def _refund_failed(
    item: Refund, *, reason: str, request: HttpRequest | None = None, actor: Any = None
) -> None:
    with transaction.atomic():
        item = Refund.objects.select_for_update().get(pk=item.pk)
        if item.state != Refund.State.REQUESTED:
            return
        item.state = Refund.State.FAILED
        item.save(update_fields=["state"])
        assert item.online_payment is not None
        op = item.online_payment
        _event(op, "refund_failed", data={"refund": str(item.pk), "reason": reason[:200]})
        audit.record(
            "payments.refund_failed",
            request=request,
            actor=actor,
            target=op,
            subject=op.payer_id,
            details={"refund": str(item.pk), "amount_yen": item.amount_yen, "reason": reason},
        )


def _ledger_refund(op: OnlinePayment, amount: int) -> None:
    """Tell the ledger: all of it refunded → its payment is REFUNDED and the installment
    open again; part of it → the part is split off as REFUNDED (revenue shrinks)."""
    from cityhall.payments.services import ledger

    payment = Payment.objects.filter(online_payment=op).first()
    if payment is not None and payment.state in (Payment.State.PROVISIONAL, Payment.State.FINAL):
        ledger.mark_refunded(payment, amount)


# --- staff ----------------------------------------------------------------------------------


def staff_payments(
    *,
    state: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    query: str = "",
) -> QuerySet[OnlinePayment]:
    """Online payments for the collection staff's list, newest first."""
    qs = OnlinePayment.objects.select_related("notice__installment__charge__kind")
    if state:
        qs = qs.filter(state=state)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(notice__notice_number=query)
            | Q(provider_payment_id=query)
            | Q(notice__installment__charge__reference=query)
        )
    return qs.order_by("-created_at")


def staff_payment(pk: Any, *, actor: Any, request: HttpRequest | None = None) -> OnlinePayment:
    """One online payment for staff (who may reconcile); the read is audited."""
    if not permissions.can_reconcile(actor):
        raise PermissionDenied
    op = (
        OnlinePayment.objects.select_related("notice__installment__charge__kind", "payer")
        .filter(pk=pk)
        .first()
    )
    if op is None:
        raise OnlinePayment.DoesNotExist
    audit.record(
        "payments.online_viewed",
        request=request,
        actor=actor,
        target=op,
        subject=op.payer_id,
    )
    return op


# --- the fee of a procedure -----------------------------------------------------------------


@dataclass(frozen=True)
class FeeChoices:
    charge: Charge
    notice: PaymentNotice | None
    paid: bool
    online: OnlineError | None  # why online payment is not offered; None: it is


def fee_choices(charge: Charge) -> FeeChoices:
    """What the fee page offers for a procedure's charge: its valid slip, and online or not."""
    notices = list(
        PaymentNotice.objects.select_related("installment__charge__kind")
        .filter(installment__charge=charge, status=PaymentNotice.Status.ACTIVE)
        .order_by("installment__period")
    )
    open_notices = [n for n in notices if n.installment.status == Installment.Status.OPEN]
    notice = open_notices[0] if open_notices else (notices[0] if notices else None)
    paid = charge.status == Charge.Status.PAID or (
        bool(charge.pk)
        and not Installment.objects.filter(charge=charge)
        .exclude(status__in=[Installment.Status.PAID, Installment.Status.PROVISIONAL])
        .exists()
    )
    online = refusal(notice) if notice is not None and not paid else None
    if notice is None and not paid:
        online = OnlineError("not_payable", _("The payment slip is not ready yet."))
    return FeeChoices(charge=charge, notice=notice, paid=paid, online=online)
