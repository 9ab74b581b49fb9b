"""Stub: replaced by its owner."""

from typing import Any

from django.http import Http404


def alert_new(request: Any, *args: Any, **kwargs: Any) -> Any:
    raise Http404

