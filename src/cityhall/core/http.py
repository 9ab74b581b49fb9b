"""Small HTTP helpers shared by views."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

TEXTSIZE_COOKIE = "cityhall_textsize"


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` parameter when it points back into this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def absolute_url(path: str) -> str:
    """``path`` on this site's public address (``CITYHALL_SITE_URL``), for links sent out."""
    from django.conf import settings

    return str(settings.SITE_URL).rstrip("/") + path
