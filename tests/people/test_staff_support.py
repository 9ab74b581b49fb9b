"""Helpers shared by the staff console tests (no tests here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from cityhall.core.models import AuditEvent
from tests.conftest import login_staff, make_staff


def english(client: Client) -> Client:
    client.cookies["cityhall_lang"] = "en"
    return client


def code_for(device: Any, offset: int = 0) -> str:
    """The code an authenticator app shows for ``device`` now (any device, confirmed or not)."""
    from django_otp.oath import totp

    code = totp(device.bin_key, device.step, device.t0, device.digits, offset)
    return str(code).zfill(device.digits)


def as_staff(user: Any) -> Client:
    """A fresh client whose session passed password and TOTP."""
    return english(login_staff(Client(), user))


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def last_event(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, f"no audit event {action}; got {actions()}"
    return event


@dataclass
class World:
    clerk: Any
    manager: Any
    admin: Any
    auditor: Any
    other_clerk: Any
    other_manager: Any

    def by_role(self, role: str) -> Any:
        return getattr(self, role)


def make_world() -> World:
    """Two departments' staff plus an administrator and an auditor elsewhere."""
    return World(
        clerk=make_staff(
            "clerk@city.iga.example", "clerk", "shimin-seikatsu", display_name="窓口 花子"
        ),
        manager=make_staff("manager@city.iga.example", "manager", "shimin-seikatsu"),
        admin=make_staff("admin@city.iga.example", "admin", "joho-seisaku"),
        auditor=make_staff("auditor@city.iga.example", "auditor", "kansa"),
        other_clerk=make_staff("zeimu-clerk@city.iga.example", "clerk", "zeimu"),
        other_manager=make_staff("zeimu-manager@city.iga.example", "manager", "zeimu"),
    )


def assert_error_summary(response: Any) -> str:
    assert response.status_code == 422, response.status_code
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert html.count("<h1") == 1
    return html
