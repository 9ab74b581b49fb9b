"""What the resident-facing procedure views share: who may use them, and language."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import get_language

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def resident_required(view: View) -> View:
    """Logged-in residents only: visitors go to the login page (and come back with
    ``next``); staff accounts are sent to the staff console, whose users never act as
    residents."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_staff:
            return redirect("staff:home")
        return view(request, *args, **kwargs)

    return cast(View, login_required(wrapped))


def language() -> str:
    """The language of this request (a Django language code, ``ja`` when none)."""
    return (get_language() or "ja").lower()
