"""Stub: replaced by the helper that owns this file."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def contact(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def contact_sent(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def my_tickets(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def my_ticket(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
