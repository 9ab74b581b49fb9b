"""Paying online: start (to the provider's page), the return page, webhooks, the fee page of
a procedure, and the sandbox's stand-in for a provider's page.

Thin views over :mod:`cityhall.payments.services.online`. The return page never trusts
its query string: it asks the provider. Webhooks are verified by the provider adapter
(signature and age) and answered with problem+json when refused.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.core.problems import problem_response
from cityhall.payments import providers
from cityhall.payments.models import OnlinePayment
from cityhall.payments.providers import sandbox
from cityhall.payments.providers.base import ProviderError, WebhookError
from cityhall.payments.services import fees, online
from cityhall.payments.services import resident as mine
from cityhall.payments.services.charges import ChargeError
from cityhall.people.models import User
from cityhall.procedures.services import applications
from cityhall.procedures.views.common import language, resident_required

log = logging.getLogger(__name__)
State = OnlinePayment.State


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


# --- start ----------------------------------------------------------------------------------


@resident_required
@require_POST
def pay_start(request: HttpRequest, number: str) -> HttpResponse:
    """The resident pressed "Pay by card or wallet": off to the provider's page (303)."""
    notice = mine.own_notice(request.user, number)
    if notice is None:
        raise Http404("no such notice of this resident")
    try:
        _op, url = online.start_payment(notice, request.user, request=request)
    except online.OnlineError as exc:
        if exc.code == "not_found":
            raise Http404("no such notice of this resident") from exc
        return render(
            request,
            "payments/online/problem.html",
            {"error": exc, "notice": notice},
            status=503 if exc.retryable else 409,
        )
    return _see_other(url)


# --- coming back ----------------------------------------------------------------------------


@resident_required
@require_GET
def pay_return(request: HttpRequest, pk: Any) -> HttpResponse:
    """Where the provider sends the resident back: we ask the provider, then say how it went."""
    op = online.own_payment(request.user, pk)
    if op is None:
        raise Http404("no such online payment of this resident")
    refreshed = online.refresh(op, via="return", request=request)
    op = refreshed.payment
    outcomes: dict[str, str] = {
        State.SUCCESS: "paid",
        State.REFUNDED: "refunded",
        State.FAILED: "declined",
        State.CANCELLED: "cancelled",
        State.ERROR: "error",
    }
    outcome = outcomes.get(op.state, "processing")
    notice = op.notice
    charge = notice.installment.charge
    return render(
        request,
        "payments/online/return.html",
        {
            "payment": op,
            "outcome": outcome,
            "reachable": refreshed.reachable,
            "notice": notice,
            "charge": charge,
            "kind_name": charge.kind.localized_name(),
            "amount": mine.yen(op.amount_yen),
            "can_retry": outcome in ("declined", "cancelled", "error")
            and online.can_pay_online(notice),
            "application_id": charge.application_id,
        },
    )


# --- webhooks -------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's signed notices. 400 problem+json for a bad or old signature, 200 for
    a duplicate; 503 when the provider cannot be asked (it will send again)."""
    if provider != providers.provider_name():
        return problem_response("not-found", request, detail=_("No such payment provider."))
    adapter = providers.get_provider()
    try:
        event = adapter.verify_webhook(request.headers, request.body)
    except WebhookError as exc:
        log.warning("refused a %s webhook: %s", provider, exc)
        return problem_response("bad-request", request, detail=str(exc))
    try:
        outcome = online.handle_webhook(provider, event, request=request)
    except ProviderError as exc:
        log.warning("webhook %s: the provider could not be asked: %s", event.event_id, exc)
        return problem_response(
            "server-error",
            request,
            status=503,
            detail=_("The payment could not be checked with the provider; send it again later."),
            headers={"Retry-After": "60"},
        )
    if outcome == "unknown":
        return problem_response("not-found", request, detail=_("No such payment."))
    return JsonResponse({"status": outcome})


# --- the fee of a procedure -----------------------------------------------------------------


@resident_required
@require_GET
def fee(request: HttpRequest, reference: str) -> HttpResponse:
    """The fee of one of the resident's applications: its amount, pay online now (when
    allowed) or use the payment slip at a store, a bank or with the eL-QR."""
    if not applications.is_valid_reference(reference):
        raise Http404("not a reference number")
    user = cast(User, request.user)
    application = applications.for_resident(user).filter(reference=reference).first()
    if application is None:
        raise Http404("no such application of this resident")
    try:
        charge = fees.charge_for_application(application)
    except ChargeError as exc:
        return render(
            request,
            "payments/online/fee.html",
            {"application": application, "error": exc.message, "choices": None},
            status=409,
        )
    choices = online.fee_choices(charge)
    return render(
        request,
        "payments/online/fee.html",
        {
            "application": application,
            "procedure_title": application.procedure.text("title", language()),
            "choices": choices,
            "charge": charge,
            "amount": mine.yen(charge.total_yen),
            "error": "",
        },
    )


# --- the sandbox's payment page -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The built-in test provider's "hosted page": Pay, Decline, Cancel. No money moves.
    Only when the sandbox is the configured provider (never in production)."""
    if not providers.is_sandbox():
        raise Http404("the sandbox provider is not in use")
    record = sandbox.load(provider_id)
    if record is None:
        raise Http404("no such sandbox payment")
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome not in sandbox.OUTCOMES:
            return render(
                request,
                "payments/online/sandbox.html",
                {"record": record, "amount": mine.yen(record["amount"]), "error": True},
                status=422,
            )
        sandbox.decide(provider_id, outcome)
        return _see_other(record["return_url"])
    return render(
        request,
        "payments/online/sandbox.html",
        {"record": record, "amount": mine.yen(record["amount"]), "error": False},
    )


def return_path(op: OnlinePayment) -> str:
    return reverse("payments:return", args=[op.pk])
