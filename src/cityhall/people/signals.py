"""Logins, logouts and failed logins go into the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from cityhall.core import audit


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(
        "auth.login",
        request=request,
        actor=user,
        target=user,
        subject=None if user.is_staff else user,
    )


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record("auth.logout", request=request, actor=user, target=user)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: Any, request: Any = None, **kwargs: Any) -> None:
    username = str((credentials or {}).get("username", ""))[:200]
    audit.record("auth.login_failed", request=request, details={"username": username})
