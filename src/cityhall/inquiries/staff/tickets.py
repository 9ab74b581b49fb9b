"""Stub: replaced by the helper that owns this file."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def ticket_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def ticket_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def reply(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def route(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def status(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def rules(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def templates(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
