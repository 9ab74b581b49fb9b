"""The site's URLs plus ``/__bench__/bare/``: a view that returns a short text.

The bare view does no template, database or session work of its own; it still passes
through every middleware, which is what any page of this site pays at least.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from cityhall import urls as site


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok\n", content_type="text/plain; charset=utf-8")


urlpatterns = [path("__bench__/bare/", bare, name="bench_bare"), *site.urlpatterns]

handler400 = site.handler400
handler403 = site.handler403
handler404 = site.handler404
handler500 = site.handler500
