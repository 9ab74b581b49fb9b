"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def article_list(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def article_new(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def article_edit(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def version_edit(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def publish(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def withdraw(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404


def attachments(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

