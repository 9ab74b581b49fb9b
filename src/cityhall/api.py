"""The JSON API under /api/v1 (django-ninja). Errors are RFC 9457 problem details."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    Throttled,
    ValidationError,
)
from ninja.throttling import AnonRateThrottle, AuthRateThrottle

from cityhall import __version__
from cityhall.core.api import router as core_router
from cityhall.core.problems import problem_response
from cityhall.core.validation_messages import pydantic_message
from cityhall.inquiries.api import router as inquiries_router
from cityhall.notices.api import router as notices_router
from cityhall.payments.api import router as payments_router
from cityhall.people.api import router as people_router
from cityhall.procedures.api import router as procedures_router

logger = logging.getLogger("cityhall.api")

api = NinjaAPI(
    title="cityhall API",
    version="1",
    description=(
        "JSON API of cityhall, the digital city hall. Errors are RFC 9457 problem details "
        "(`application/problem+json`) with a stable `type`, a `title` in the language of the "
        "request (Accept-Language or the language cookie) and, for invalid input, `errors`: "
        f"a list of `{{field, detail}}`. Version {__version__}."
    ),
    urls_namespace="api-v1",
    throttle=[AnonRateThrottle(settings.API_RATE), AuthRateThrottle(settings.API_RATE)],
)
api.add_router("", core_router)
api.add_router("", people_router)
api.add_router("", procedures_router)
api.add_router("", payments_router)
api.add_router("", notices_router)
api.add_router("", inquiries_router)


def _location(loc: list[object]) -> str | None:
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "payload"}]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": _location(list(err.get("loc", []))),
            "detail": pydantic_message(err.get("type", "")),
        }
        for err in exc.errors
    ]
    return problem_response("validation-error", request, errors=errors)


@api.exception_handler(AuthenticationError)
def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response("not-authenticated", request)


@api.exception_handler(AuthorizationError)
def on_authorization(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem_response("permission-denied", request)


@api.exception_handler(Throttled)
def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return problem_response(
        "rate-limited", request, headers={"Retry-After": str(int(exc.wait or 60))}
    )


SLUG_BY_STATUS = {
    400: "bad-request",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    429: "rate-limited",
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    slug = SLUG_BY_STATUS.get(exc.status_code, "bad-request")
    return problem_response(slug, request, detail=str(exc.message), status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response("not-found", request)


@api.exception_handler(Exception)
def on_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s", request.path)
    return problem_response("server-error", request)
