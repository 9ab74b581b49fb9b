"""Stub: replaced by the helper that owns this file."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def entry_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def entry_new(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def import_csv(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def entry_edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def text_edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
