"""Web push: the service worker, a browser's (un)subscription, and "opened" reports.

- ``GET /sw.js`` — the service worker (``static/notices/sw.js``), from the site root so
  its scope can be ``/`` (``Service-Worker-Allowed: /``), never cached stale
  (``Cache-Control: no-cache``: browsers check for a new worker on every visit).
- ``GET /my/notifications/push/`` — JSON for ``push.js``: the ``applicationServerKey``
  (VAPID public key, ``""`` when web push is off) and how many browsers are subscribed.
- ``POST /my/notifications/push/`` — ``PushSubscription.toJSON()`` (or form fields
  ``endpoint``, ``p256dh``, ``auth``) from a logged-in resident with the CSRF token;
  201 with JSON, or an RFC 9457 problem (400 for bad input, 401/403 for who you are).
- ``POST /my/notifications/push/remove/`` — ``{"endpoint": …}``: forget that browser.
- ``POST /notices/opened/<key>/`` — the service worker reports that a notification was
  clicked. No session, so no CSRF token: the delivery key is a random UUID (122 bits),
  which only the resident's browser received; guessing one is hopeless. Always 204.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cityhall.core.problems import problem_response
from cityhall.notices.models import PushSubscription
from cityhall.notices.services import preferences, push_keys
from cityhall.notices.webpush import b64url_decode
from cityhall.notices.webpush.rfc8291 import load_public_key

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "notices" / "sw.js"
OPENED_PLACEHOLDER = "'__OPENED_URL__'"
MAX_ENDPOINT = 1000
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _read_worker(opened_url: str) -> str:
    source = SERVICE_WORKER.read_text(encoding="utf-8")
    return source.replace(OPENED_PLACEHOLDER, json.dumps(opened_url))


_cached_worker = lru_cache(maxsize=1)(_read_worker)


def _worker_source(opened_url: str) -> str:
    """The worker's code, read once (read each time with DEBUG, for whoever edits it)."""
    return _read_worker(opened_url) if settings.DEBUG else _cached_worker(opened_url)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    # The "opened" address with a stand-in key the worker replaces: "/notices/opened/{key}/".
    zero = str(uuid.UUID(int=0))
    opened = reverse("notices:opened", args=[zero]).replace(zero, "{key}")
    response = HttpResponse(
        _worker_source(opened), content_type="application/javascript; charset=utf-8"
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


# --- subscriptions ------------------------------------------------------------------------


def _who(request: HttpRequest) -> HttpResponse | None:
    """``None`` for a logged-in resident, else the problem to answer."""
    if not request.user.is_authenticated:
        return problem_response("not-authenticated", request)
    if request.user.is_staff:
        return problem_response(
            "permission-denied", request, detail=_("Staff accounts do not receive notices.")
        )
    return None


def _data(request: HttpRequest) -> dict[str, Any] | None:
    """The posted subscription as a flat dict, from JSON or a form; ``None`` if unreadable."""
    if request.content_type == "application/json":
        try:
            raw = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(raw, dict):
            return None
        keys = raw.get("keys")
        flat = {k: v for k, v in raw.items() if k != "keys"}
        if isinstance(keys, dict):
            flat.setdefault("p256dh", keys.get("p256dh"))
            flat.setdefault("auth", keys.get("auth"))
        return flat
    return {key: request.POST.get(key) for key in ("endpoint", "p256dh", "auth")}


def loopback_allowed() -> bool:
    """Plain-http loopback endpoints (test push servers) outside production only."""
    return bool(settings.DEBUG) or str(settings.ENVIRONMENT) in {"development", "dev", "test"}


def validate_endpoint(value: Any) -> str | None:
    """An error message, or ``None`` when ``value`` is a push endpoint we may post to."""
    if not isinstance(value, str) or not value.strip():
        return _("The push endpoint is missing.")
    if len(value) > MAX_ENDPOINT:
        return _("The push endpoint is too long.")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        _port = parts.port
    except ValueError:
        return _("The push endpoint is not a valid address.")
    if not host or parts.username or parts.password:
        return _("The push endpoint is not a valid address.")
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and host in LOOPBACK_HOSTS and loopback_allowed():
        return None
    return _("The push endpoint must be an https address.")


def _key_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        return b64url_decode(value)
    except ValueError:
        return None


def validate(data: dict[str, Any]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    problem = validate_endpoint(data.get("endpoint"))
    if problem:
        errors.append({"field": "endpoint", "detail": problem})
    p256dh = _key_bytes(data.get("p256dh"))
    valid_point = False
    if p256dh is not None and len(p256dh) == 65:
        try:
            load_public_key(p256dh)
            valid_point = True
        except ValueError:
            valid_point = False
    if not valid_point:
        errors.append(
            {
                "field": "p256dh",
                "detail": _("The browser key must be a P-256 public key (65 bytes, base64url)."),
            }
        )
    auth = _key_bytes(data.get("auth"))
    if auth is None or len(auth) != 16:
        errors.append(
            {"field": "auth", "detail": _("The auth secret must be 16 bytes (base64url).")}
        )
    return errors


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    refused = _who(request)
    if refused is not None:
        return refused
    user: Any = request.user
    if request.method == "GET":
        return JsonResponse(
            {
                "applicationServerKey": push_keys.vapid_public_key(),
                "subscriptions": PushSubscription.objects.filter(user=user).count(),
            }
        )
    if not push_keys.push_enabled():
        return problem_response(
            "conflict", request, detail=_("Browser notifications are switched off on this site.")
        )
    data = _data(request)
    if data is None:
        return problem_response(
            "bad-request", request, detail=_("Send the subscription as JSON or form fields.")
        )
    errors = validate(data)
    if errors:
        return problem_response("validation-error", request, errors=errors, status=400)
    endpoint = str(data["endpoint"]).strip()
    subscription = preferences.add_push_subscription(
        user,
        endpoint,
        str(data["p256dh"]),
        str(data["auth"]),
        user_agent=request.headers.get("User-Agent", "")[:300],
        request=request,
    )
    return JsonResponse(
        {
            "subscribed": True,
            "endpoint": subscription.endpoint,
            "subscriptions": PushSubscription.objects.filter(user=user).count(),
        },
        status=201,
    )


@require_POST
def unsubscribe(request: HttpRequest) -> HttpResponse:
    refused = _who(request)
    if refused is not None:
        return refused
    user: Any = request.user
    data = _data(request)
    endpoint = data.get("endpoint") if data else None
    if not isinstance(endpoint, str) or not endpoint.strip():
        return problem_response(
            "validation-error",
            request,
            errors=[{"field": "endpoint", "detail": _("The push endpoint is missing.")}],
            status=400,
        )
    removed = preferences.remove_push_subscription(user, endpoint.strip(), request=request)
    return JsonResponse(
        {
            "subscribed": False,
            "removed": removed,
            "subscriptions": PushSubscription.objects.filter(user=user).count(),
        }
    )


# --- opened -------------------------------------------------------------------------------


@csrf_exempt  # no session in a service worker's report; the random key is the authority
@require_POST
def opened(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    from cityhall.notices.services import delivery

    delivery.mark_opened(str(key))
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response
