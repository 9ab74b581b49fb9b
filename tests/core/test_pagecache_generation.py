"""A bumped generation makes every process serve fresh public pages (emergency banners)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from cityhall.core import pagecache


@override_settings(PAGE_CACHE_SECONDS=60)
def test_bump_drops_cached_public_pages(db: Any) -> None:
    served: list[int] = []

    def view(request: Any) -> HttpResponse:
        served.append(1)
        return HttpResponse(f"version {len(served)}")

    middleware = pagecache.PublicPageCacheMiddleware(view)
    factory = RequestFactory()
    first = middleware(factory.get("/"))
    again = middleware(factory.get("/"))
    assert first.content == again.content == b"version 1"
    pagecache.bump()
    fresh = middleware(factory.get("/"))
    assert fresh.content == b"version 2"
