"""Fixed-window rate limits kept in the shared cache (database or Redis)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/h"`` -> (5, 3600)."""
    count, _, unit = rate.partition("/")
    if unit not in UNITS or not count.isdigit():
        raise ValueError(f"bad rate {rate!r}: use N/s, N/m, N/h or N/d")
    return int(count), UNITS[unit]


def hit(scope: str, ident: str, rate: str) -> tuple[bool, int]:
    """Count one hit; returns (allowed, seconds until the window resets)."""
    limit, window = parse_rate(rate)
    now = int(time.time())
    start = now - now % window
    key = f"rl:{scope}:{ident}:{start}"
    if cache.add(key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 5)
            count = 1
    return count <= limit, start + window - now


def client_key(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


def ratelimit(
    scope: str, rate_setting: str, methods: tuple[str, ...] = ("POST",)
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Limit a view per client address; the rate is read from ``settings.<rate_setting>``."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in methods:
                allowed, retry = hit(scope, client_key(request), getattr(settings, rate_setting))
                if not allowed:
                    from cityhall.core.views import too_many_requests

                    return too_many_requests(request, retry)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
