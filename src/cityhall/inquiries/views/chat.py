"""Stub: replaced by the helper that owns this file."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def ask(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def feedback(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def handover(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
