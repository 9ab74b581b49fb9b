"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def message_list(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def message_new(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def message_detail(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def board_json(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def cancel(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def template_list(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def template_new(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def template_edit(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

