"""Shared fixtures: real database, real SMTP server on loopback, real TOTP devices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests check what is true, not how fast: no per-example deadline, so a busy
# 2-core CI machine cannot turn a slow example into a failure (speed lives in bench/).
hypothesis_settings.register_profile("cityhall", deadline=None)
hypothesis_settings.load_profile("cityhall")


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    from django.conf import settings
    from django.core.cache import cache
    from django.utils import translation

    from cityhall.procedures.services import applications

    # Parsed form versions are cached by id, and a rolled-back test may reuse an id.
    applications._parsed.cache_clear()
    # Each request switches the thread's language and leaves it so: every test starts
    # from the default language, whatever the test before it asked for.
    translation.activate(settings.LANGUAGE_CODE)
    cache.clear()
    yield
    cache.clear()
    applications._parsed.cache_clear()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """Messages received by a real aiosmtpd server listening on 127.0.0.1."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    def last_to(self, address: str) -> EmailMessage:
        for message in reversed(self.messages):
            if address in str(message["To"]):
                return message
        raise AssertionError(f"no e-mail to {address}; got {[m['To'] for m in self.messages]}")


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            return "250 OK"

    sink.port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def geography(db: Any) -> dict[str, Any]:
    from cityhall.core.models import Area, District

    ueno = Area.objects.create(
        code="ueno", name="上野", kana="うえの", names={"en": "Ueno"}, order=1
    )
    aoyama = Area.objects.create(
        code="aoyama", name="青山", kana="あおやま", names={"en": "Aoyama"}, order=6
    )
    return {
        "ueno": ueno,
        "aoyama": aoyama,
        "ueno-tobu": District.objects.create(code="ueno-tobu", name="上野東部", area=ueno, order=1),
        "aoyama-hokubu": District.objects.create(
            code="aoyama-hokubu", name="青山北部", area=aoyama, order=1
        ),
    }


PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def password() -> str:
    return PASSWORD


def make_resident(email: str = "hanako@example.jp", **profile: Any) -> Any:
    from django.utils import timezone

    from cityhall.people.models import ResidentProfile, User

    user = User.objects.create_user(
        email=email, password=PASSWORD, email_verified_at=timezone.now()
    )
    ResidentProfile.objects.create(user=user, **profile)
    return user


@pytest.fixture
def resident(db: Any) -> Any:
    return make_resident()


@pytest.fixture
def other_resident(db: Any) -> Any:
    return make_resident("taro@example.jp")


@pytest.fixture
def resident_client(client: Any, resident: Any) -> Any:
    client.force_login(resident)
    return client


def make_staff(
    email: str, role: str, department_code: str = "shimin-seikatsu", **extra: Any
) -> Any:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cityhall.people.models import Department, StaffAssignment, User

    department, _ = Department.objects.get_or_create(
        code=department_code, defaults={"name": department_code}
    )
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True, **extra)
    StaffAssignment.objects.create(user=user, department=department, role=role)
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def totp_now(user: Any) -> str:
    """The current code of the user's TOTP device, computed like an authenticator app does."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(code).zfill(device.digits)


def login_staff(client: Any, user: Any) -> Any:
    """A staff session that passed password and TOTP (the OTP device is attached)."""
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    request = type("R", (), {"session": client.session, "user": user})()
    otp_login(request, TOTPDevice.objects.get(user=user, confirmed=True))
    request.session.save()
    return client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium under Playwright, per test module (for the browser and axe tests).

    Module scope, not session: Playwright's sync API keeps an event loop running in
    this thread while it is open, and browser tests elsewhere in the suite start their
    own ``sync_playwright()``, which refuses to run inside a running loop.
    """
    from tests.e2e.helpers import launch_chromium

    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def clerk(db: Any) -> Any:
    return make_staff("clerk@city.iga.example", "clerk")


@pytest.fixture
def clerk_client(client: Any, clerk: Any) -> Any:
    return login_staff(client, clerk)


def _audit_trigger_sql(vendor: str) -> tuple[list[str], list[str]]:
    """Statements that lift and restore the audit log's append-only triggers."""
    from importlib import import_module

    module = import_module("cityhall.core.migrations.0002_audit_append_only")
    if vendor == "sqlite":
        return list(module.SQLITE_REVERSE), list(module.SQLITE)
    return (
        ["ALTER TABLE core_auditevent DISABLE TRIGGER USER"],
        ["ALTER TABLE core_auditevent ENABLE TRIGGER USER"],
    )


@pytest.fixture(scope="session", autouse=True)
def _flush_through_audit_triggers() -> Iterator[None]:
    """Transactional tests end with a flush; the audit triggers would refuse it.

    Only the test database's flush is let through: the triggers are lifted for the
    flush statement list and put back right after, inside the same transaction.
    """
    from django.core.management.commands import flush

    original = flush.sql_flush

    def sql_flush(style: Any, connection: Any, *args: Any, **kwargs: Any) -> list[str]:
        lift, restore = _audit_trigger_sql(connection.vendor)
        return [*lift, *original(style, connection, *args, **kwargs), *restore]

    flush.sql_flush = sql_flush  # type: ignore[assignment]
    yield
    flush.sql_flush = original  # type: ignore[assignment]


def lift_audit_triggers() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in _audit_trigger_sql(connection.vendor)[0]:
            cursor.execute(statement)


def restore_audit_triggers() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in _audit_trigger_sql(connection.vendor)[1]:
            cursor.execute(statement)
