"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def segment_list(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def segment_new(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def segment_edit(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def preview(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

