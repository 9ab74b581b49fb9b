"""A short-lived, per-process cache of public pages for visitors who are not logged in.

The pages anyone sees (home, life events, accessibility, privacy, problem types, the
FAQ) differ
only by language, furigana and text size, and they carry no CSRF token or personal
data. This middleware keeps their final HTML — furigana included — for
``CITYHALL_PAGE_CACHE_SECONDS`` in each process, keyed by path, query, language and
display cookies. A visitor with a session cookie always gets a fresh page, and a
response that sets a cookie or says ``Cache-Control: private``/``no-store`` is never kept.

Every process also keys its pages by a *generation* kept in the shared cache: content
that must show everywhere at once (an emergency alert's banner) calls :func:`bump`, and
every process stops serving its older copies on its next request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from cityhall.core.furigana import COOKIE as FURIGANA_COOKIE
from cityhall.core.http import TEXTSIZE_COOKIE

PUBLIC_PREFIXES = (
    "/life/",
    "/accessibility/",
    "/privacy/",
    "/problems/",
    "/procedures/",
    "/guide/",
    "/faq/",  # the FAQ list and search (an entry's page has a form: private, never kept)
)
MAX_ENTRIES = 512
GENERATION_KEY = "cityhall:pagecache:generation"


def generation() -> str:
    """The shared generation of public pages ("" until something bumped it)."""
    from django.core.cache import cache

    return str(cache.get(GENERATION_KEY, ""))


def bump() -> None:
    """Make every process drop its cached public pages (a new generation)."""
    import secrets

    from django.core.cache import cache

    cache.set(GENERATION_KEY, secrets.token_hex(4), None)


@dataclass(frozen=True)
class Entry:
    expires: float
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes


def is_public(path: str) -> bool:
    return path == "/" or path.startswith(PUBLIC_PREFIXES)


class PublicPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.ttl = float(settings.PAGE_CACHE_SECONDS)
        self.entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()

    def _key(self, request: HttpRequest) -> tuple[str, ...] | None:
        if (
            self.ttl <= 0
            or request.method not in {"GET", "HEAD"}
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or not is_public(request.path)
        ):
            return None
        return (
            request.method,
            request.get_full_path(),
            translation.get_language_from_request(request),
            request.COOKIES.get(FURIGANA_COOKIE, ""),
            request.COOKIES.get(TEXTSIZE_COOKIE, ""),
            generation(),
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self._key(request)
        if key is None:
            return self.get_response(request)
        now = time.monotonic()
        entry = self.entries.get(key)
        if entry is not None and entry.expires > now:
            self.entries.move_to_end(key)
            response = HttpResponse(entry.content, status=entry.status)
            for name, value in entry.headers:
                response.headers[name] = value
            return response
        response = self.get_response(request)
        cache_control = response.get("Cache-Control", "")
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in cache_control
            and "no-store" not in cache_control
        ):
            self.entries[key] = Entry(
                now + self.ttl,
                response.status_code,
                tuple(response.headers.items()),
                response.content,
            )
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)
        return response
