"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def link_start(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def link_callback(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def unlink(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def webhook(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

