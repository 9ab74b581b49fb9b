"""RFC 9457 problem details: one shape for every JSON error.

``type`` is a stable relative URI (``/problems/<slug>``) that also serves a page
explaining the problem; ``title`` is in the language of the request.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

CONTENT_TYPE = "application/problem+json"


def titles() -> dict[str, str]:
    """Every problem type with its human title (translated at call time)."""
    return {
        "validation-error": _("The request has mistakes."),
        "not-authenticated": _("You need to log in."),
        "permission-denied": _("You may not do this."),
        "identity-required": _(
            "This needs you to prove who you are with your My Number Card first."
        ),
        "not-found": _("Not found."),
        "method-not-allowed": _("This method is not allowed here."),
        "conflict": _("This conflicts with the current state."),
        "rate-limited": _("Too many requests. Please wait and try again."),
        "csrf-failed": _("The form expired. Please reload the page and try again."),
        "bad-request": _("The request could not be understood."),
        "server-error": _("Something went wrong on our side. Please try again later."),
    }


STATUS = {
    "validation-error": 422,
    "not-authenticated": 401,
    "permission-denied": 403,
    "identity-required": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "conflict": 409,
    "rate-limited": 429,
    "csrf-failed": 403,
    "bad-request": 400,
    "server-error": 500,
}


def problem_body(
    slug: str,
    *,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
    status: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": titles()[slug],
        "status": status or STATUS[slug],
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    slug: str,
    request: HttpRequest | None = None,
    *,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body = problem_body(
        slug,
        detail=detail,
        errors=errors,
        instance=request.path if request is not None else None,
        status=status,
        **extra,
    )
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=body["status"],
        content_type=CONTENT_TYPE,
        headers=headers,
    )
    return response


def wants_problem(request: HttpRequest) -> bool:
    """API paths and clients that ask for JSON get problem+json instead of HTML."""
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or ("json" in accept and "text/html" not in accept)
