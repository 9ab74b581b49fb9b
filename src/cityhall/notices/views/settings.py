"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def preferences(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def inbox(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def inbox_item(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def unsubscribe(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

