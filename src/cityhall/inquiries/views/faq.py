"""Stub: replaced by the helper that owns this file."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def faq_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def faq_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
