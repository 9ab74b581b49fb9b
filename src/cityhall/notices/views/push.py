"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def service_worker(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def subscribe(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def unsubscribe(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def opened(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

