"""Error pages, problem-type pages and the health check."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from cityhall.core.health import check
from cityhall.core.problems import STATUS, problem_response, titles, wants_problem


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for load balancers: 200 or 503."""
    ok, body = check()
    return JsonResponse(body, status=200 if ok else 503)


def problem_type(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in STATUS:
        return page_not_found(request)
    return render(
        request,
        "core/problem_type.html",
        {"slug": slug, "title": titles()[slug], "status": STATUS[slug]},
    )


def _error(request: HttpRequest, slug: str, template: str, status: int) -> HttpResponse:
    if wants_problem(request):
        return problem_response(slug, request)
    return render(request, template, {"status": status}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "not-found", "core/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_problem(request):
        return problem_response("server-error", request)
    # Rendered without context processors' database access: the fault may be there.
    return render(request, "core/500.html", {"status": 500}, status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "permission-denied", "core/403.html", 403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "bad-request", "core/400.html", 400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if wants_problem(request):
        return problem_response("csrf-failed", request)
    return render(request, "core/csrf.html", {"status": 403}, status=403)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    headers = {"Retry-After": str(max(1, retry_after))}
    if wants_problem(request):
        return problem_response("rate-limited", request, headers=headers)
    response = render(
        request,
        "core/429.html",
        {"status": 429, "retry_minutes": max(1, (retry_after + 59) // 60)},
        status=429,
    )
    for name, value in headers.items():
        response.headers[name] = value
    return response
