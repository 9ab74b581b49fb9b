"""Pages of the デジタル認証アプリ login (OpenID Connect): thin, the rules are in
:mod:`cityhall.people.services.identity` and :mod:`cityhall.people.oidc`."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cityhall.core.http import safe_next
from cityhall.core.ratelimit import ratelimit
from cityhall.people.services import identity
from cityhall.people.views import apply_preferences

#: What each failure tells the resident (English source strings, translated in locale/).
MESSAGES = {
    "disabled": _("Logging in with the Digital Authentication App is not available."),
    "config": _(
        "Logging in with the Digital Authentication App is not available at the moment. "
        "Please try again later or log in with your e-mail address."
    ),
    "network": _(
        "We could not reach the Digital Authentication App. Please try again in a few minutes."
    ),
    "provider": _(
        "The Digital Authentication App did not confirm who you are. You may have "
        "cancelled, or the app could not read your My Number card."
    ),
    "state": _(
        "This login was already completed, or it was started in another browser. "
        "Please start again."
    ),
    "expired": _("The login took too long. Please start again."),
    "token": _(
        "We could not check the answer of the Digital Authentication App. Please start again."
    ),
    "staff": _("Staff accounts cannot log in with the Digital Authentication App."),
    "inactive": _("This account is closed."),
    "linked_elsewhere": _(
        "This My Number card is already connected to another account. Log in to that "
        "account, or ask the city hall for help."
    ),
    "other_person": _(
        "Your account is already connected to another person's My Number card. "
        "Please ask the city hall for help."
    ),
    "not_card": _(
        "This page needs a login with your My Number card, and the login was not "
        "confirmed with the card. Please try again with the card."
    ),
    "nothing_pending": _("There is nothing waiting here. The login may have taken too long."),
}


CLAIM_LABELS = {
    "name": _("Name"),
    "address": _("Address"),
    "birthdate": _("Date of birth"),
    "gender": _("Gender"),
}
GENDER_LABELS = {"male": _("Male"), "female": _("Female"), "other": _("Other")}


def _display(name: str, value: str) -> object:
    if name == "birthdate":
        return dt.date.fromisoformat(value)
    if name == "gender":
        return GENDER_LABELS.get(value.lower(), value)
    return value


def error_page(request: HttpRequest, error: identity.FlowError) -> HttpResponse:
    return render(
        request,
        "people/oidc_error.html",
        {
            "reason": error.reason,
            "message": MESSAGES.get(error.reason, MESSAGES["token"]),
            "provider_error": error.provider_error,
        },
        status=error.status,
    )


@never_cache
@require_GET
@ratelimit("oidc", "LOGIN_RATE", methods=("GET",))
def start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the provider (OpenID Connect Core §3.1.2.1)."""
    try:
        url = identity.start(
            request, safe_next(request, ""), purpose=request.GET.get("purpose", "login")
        )
    except identity.FlowError as exc:
        return error_page(request, exc)
    return redirect(url)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here (the authorization response)."""
    try:
        outcome = identity.finish(request, request.GET)
    except identity.FlowError as exc:
        return error_page(request, exc)
    response = redirect(outcome.redirect_to)
    if outcome.logged_in is not None:
        apply_preferences(response, outcome.logged_in)
    return response


@never_cache
@require_GET
def connect(request: HttpRequest) -> HttpResponse:
    """No account is linked to this card yet: log in or sign up with e-mail first."""
    if request.user.is_authenticated:
        result = identity.connect_result(request)
        if result is None:
            return redirect(identity.local_path(None))
        if result != "linked":
            return error_page(request, identity.FlowError(result))
        return redirect(
            "people:oidc_keep" if identity.keep_offer(request) else identity.local_path(None)
        )
    if identity.pending(request) is None:
        return error_page(request, identity.FlowError("nothing_pending"))
    return render(request, "people/oidc_connect.html")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def keep(request: HttpRequest) -> HttpResponse:
    """The "Keep these on my account?" page: the verified 基本4情報 are stored only on request."""
    offer = identity.keep_offer(request)
    if offer is None:
        return error_page(request, identity.FlowError("nothing_pending"))
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if choice not in identity.CHOICES:
            return HttpResponseBadRequest()
        return redirect(identity.decide(request, choice))
    rows = [
        (CLAIM_LABELS[name], _display(name, offer.claims[name]))
        for name in identity.IDENTITY_CLAIMS
        if name in offer.claims
    ]
    return render(request, "people/oidc_keep.html", {"offer": offer, "rows": rows})


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    """Our public key as a JWK Set (RFC 7517 §5) to register with the provider."""
    try:
        keys = identity.client_jwks()
    except identity.FlowError as exc:
        return JsonResponse({"keys": []} if exc.reason == "disabled" else {}, status=exc.status)
    response = JsonResponse(keys, json_dumps_params={"indent": 2})
    response["Cache-Control"] = "public, max-age=3600"
    return response
