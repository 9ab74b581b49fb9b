"""LINE: linking a resident's LINE account (LINE Login, OAuth 2.1 code flow), unlinking,
and the Messaging API webhook.

- :func:`link_start` sends the resident to LINE Login's authorize page with a random
  ``state`` and ``nonce`` kept in the session (``bot_prompt=aggressive`` offers to add the
  city's official account as a friend, which pushing needs).
- :func:`link_callback` checks ``state``, exchanges the code for a token, reads the
  profile (``userId``, ``displayName``) and links it through
  :func:`cityhall.notices.services.preferences.link_line`.
- :func:`webhook` verifies ``x-line-signature`` (400 problem+json when wrong) and marks a
  link blocked on ``unfollow`` and unblocked on ``follow``.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any, cast
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cityhall.core.http import absolute_url
from cityhall.core.problems import problem_response
from cityhall.notices.channels import line as line_channel
from cityhall.people.models import User
from cityhall.procedures.views.common import resident_required

log = logging.getLogger(__name__)

SESSION_KEY = "notices_line_login"
TIMEOUT = (5, 15)


def login_configured() -> bool:
    return bool(settings.LINE_LOGIN_CHANNEL_ID and settings.LINE_LOGIN_CHANNEL_SECRET)


def _error(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "notices/line_error.html", {"error": message}, status=status)


@resident_required
@require_GET
def link_start(request: HttpRequest) -> HttpResponse:
    if not login_configured():
        return render(request, "notices/line_unavailable.html")
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    request.session[SESSION_KEY] = {"state": state, "nonce": nonce}
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.LINE_LOGIN_CHANNEL_ID,
            "redirect_uri": absolute_url(reverse("notices:line_callback")),
            "state": state,
            "scope": "profile openid",
            "nonce": nonce,
            "bot_prompt": "aggressive",
        }
    )
    return redirect(f"{settings.LINE_LOGIN_AUTHORIZE_URL}?{query}")


def _exchange(code: str) -> tuple[str, str]:
    """(LINE user id, display name) for an authorization code; raises ``ValueError``."""
    base = str(settings.LINE_LOGIN_API_URL).rstrip("/")
    try:
        token = requests.post(
            f"{base}/oauth2/v2.1/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": absolute_url(reverse("notices:line_callback")),
                "client_id": settings.LINE_LOGIN_CHANNEL_ID,
                "client_secret": settings.LINE_LOGIN_CHANNEL_SECRET,
            },
            timeout=TIMEOUT,
        )
        if token.status_code != 200:
            raise ValueError(f"token endpoint answered {token.status_code}")
        access_token = token.json().get("access_token")
        if not access_token:
            raise ValueError("no access token")
        profile = requests.get(
            f"{base}/v2/profile",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        )
        if profile.status_code != 200:
            raise ValueError(f"profile endpoint answered {profile.status_code}")
        data = profile.json()
    except (requests.RequestException, json.JSONDecodeError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc
    user_id = data.get("userId") if isinstance(data, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("the profile has no userId")
    return user_id, str(data.get("displayName") or "")


@resident_required
@require_GET
def link_callback(request: HttpRequest) -> HttpResponse:
    from cityhall.notices.services import preferences

    if not login_configured():
        return render(request, "notices/line_unavailable.html")
    expected = request.session.pop(SESSION_KEY, None) or {}
    state = request.GET.get("state", "")
    if (
        not state
        or not expected.get("state")
        or not secrets.compare_digest(state, str(expected["state"]))
    ):
        return _error(request, _("The link with LINE could not be checked. Please start again."))
    if request.GET.get("error"):
        # the resident cancelled on LINE's page (error=access_denied) or LINE refused
        return _error(request, _("LINE was not linked: the request was cancelled on LINE."))
    code = request.GET.get("code", "")
    if not code:
        return _error(request, _("LINE did not send what is needed to link your account."))
    try:
        line_user_id, display_name = _exchange(code)
    except ValueError as exc:
        log.warning("LINE Login failed: %s", exc)
        return _error(
            request,
            _("LINE could not be reached to link your account. Please try again later."),
            status=502,
        )
    user = cast(User, request.user)
    try:
        preferences.link_line(user, line_user_id, display_name, request=request)
    except ValueError as exc:  # PreferencesError: e.g. linked to another account
        errors: Any = getattr(exc, "errors", None) or {"line": [str(exc)]}
        return _error(request, " ".join(m for ms in errors.values() for m in ms), status=409)
    messages.success(request, _("Your LINE account is linked. Messages will come on LINE."))
    return redirect("notices:preferences")


@resident_required
@require_POST
def unlink(request: HttpRequest) -> HttpResponse:
    from cityhall.notices.services import preferences

    if preferences.unlink_line(cast(User, request.user), request=request):
        messages.success(request, _("Your LINE account is no longer linked."))
    else:
        messages.info(request, _("No LINE account was linked."))
    return redirect("notices:preferences")


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("x-line-signature", "")
    if not line_channel.verify_signature(request.body, signature):
        return problem_response(
            "bad-request", request, detail=_("The signature of this request is not valid.")
        )
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return problem_response("bad-request", request, detail=_("The body is not JSON."))
    counts = line_channel.handle_events(payload)
    return JsonResponse({"status": "ok", **counts})
