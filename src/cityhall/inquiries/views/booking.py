"""Stub: replaced by the helper that owns this file."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def services(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def slots(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def book(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def my_bookings(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def my_booking(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def cancel(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def ics(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
