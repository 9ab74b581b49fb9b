"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def news_list(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def news_detail(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def attachment(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

