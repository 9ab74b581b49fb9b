"""API tokens for other systems: issued once in plaintext, stored as a hash, refused when revoked,
expired or when the account is no longer active staff; the `cityhall api-token` command."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.people.models import ApiToken, User
from cityhall.people.services import api_tokens
from tests.conftest import make_resident, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(db: Any) -> User:
    return make_staff("rpa@city.iga.example", "clerk")


def test_issue_returns_the_plaintext_once_and_keeps_only_a_hash(service: User) -> None:
    token, plaintext = api_tokens.issue(None, service, "  基幹系   connector ")
    parsed = api_tokens.parse(plaintext)
    assert parsed is not None and plaintext.startswith(f"ch_{token.prefix}_")
    assert len(token.prefix) == 8 and token.name == "基幹系 connector"
    assert token.key_hash == hashlib.sha256(parsed.secret.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert not any(parsed.secret in str(value) for value in stored.values())
    event = AuditEvent.objects.get(action="api_token.issue")
    assert event.details["prefix"] == token.prefix and event.details["user"] == service.pk
    assert parsed.secret not in str(event.details)
    assert api_tokens.authenticate(plaintext) == service
    other_token, other = api_tokens.issue(None, service, "second")
    assert other != plaintext and other_token.key_hash != token.key_hash


def test_wrong_or_malformed_tokens_are_refused(service: User) -> None:
    token, plaintext = api_tokens.issue(None, service, "connector")
    parsed = api_tokens.parse(plaintext)
    assert parsed is not None
    wrong_prefix = "zzzzzzzz" if token.prefix != "zzzzzzzz" else "yyyyyyyy"
    for attempt in (
        "",
        "ch_",
        plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B"),
        f"ch_{wrong_prefix}_{parsed.secret}",
        parsed.secret,
        plaintext + "x" * 200,
        f"Bearer {plaintext}",
    ):
        assert api_tokens.authenticate(attempt) is None, attempt


def test_revoked_expired_and_inactive_are_refused(service: User) -> None:
    token, plaintext = api_tokens.issue(
        None, service, "connector", timezone.now() + dt.timedelta(days=1)
    )
    assert api_tokens.authenticate(plaintext) == service

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert api_tokens.authenticate(plaintext) is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert api_tokens.authenticate(plaintext) == service

    User.objects.filter(pk=service.pk).update(is_active=False)
    assert api_tokens.authenticate(plaintext) is None
    User.objects.filter(pk=service.pk).update(is_active=True, is_staff=False)
    assert api_tokens.authenticate(plaintext) is None
    User.objects.filter(pk=service.pk).update(is_staff=True)

    assert api_tokens.revoke(None, token) is True
    assert api_tokens.authenticate(plaintext) is None
    assert api_tokens.revoke(None, token) is False
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_last_used_is_written_at_most_once_a_minute(service: User) -> None:
    token, plaintext = api_tokens.issue(None, service, "connector")
    assert token.last_used_at is None
    api_tokens.authenticate(plaintext)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    api_tokens.authenticate(plaintext)
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = timezone.now() - dt.timedelta(seconds=api_tokens.TOUCH_SECONDS + 1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    api_tokens.authenticate(plaintext)
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > earlier


def test_who_and_what_tokens_may_be_issued_for(service: User) -> None:
    resident = make_resident()
    with pytest.raises(api_tokens.TokenError):
        api_tokens.issue(None, resident, "not staff")
    with pytest.raises(api_tokens.TokenError):
        api_tokens.issue(None, service, "   ")
    with pytest.raises(api_tokens.TokenError):
        api_tokens.issue(None, service, "x" * 101)
    with pytest.raises(api_tokens.TokenError):
        api_tokens.issue(None, service, "past", timezone.now() - dt.timedelta(seconds=1))
    clerk = make_staff("clerk@city.iga.example", "clerk")
    with pytest.raises(PermissionDenied):
        api_tokens.issue(clerk, service, "by a clerk")
    admin = make_staff("admin@city.iga.example", "admin")
    token, _plaintext = api_tokens.issue(admin, service, "by an admin")
    assert token.created_by == admin
    with pytest.raises(PermissionDenied):
        api_tokens.revoke(clerk, token)
    assert not ApiToken.objects.filter(name__in=["not staff", "past", "by a clerk"]).exists()


def test_the_command_issues_lists_and_revokes(service: User) -> None:
    out, err = StringIO(), StringIO()
    call_command(
        "api_token",
        "issue",
        "--user",
        service.email,
        "--name",
        "RPA",
        "--days",
        "30",
        stdout=out,
        stderr=err,
    )
    plaintext = out.getvalue().strip()
    assert api_tokens.authenticate(plaintext) == service
    token = ApiToken.objects.get(name="RPA")
    assert token.expires_at is not None
    assert token.expires_at > timezone.now() + dt.timedelta(days=29)
    assert token.prefix in err.getvalue()

    listing = StringIO()
    call_command("api_token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and "active" in listing.getvalue()
    parsed = api_tokens.parse(plaintext)
    assert parsed is not None and parsed.secret not in listing.getvalue()

    call_command("api_token", "revoke", token.prefix, stdout=StringIO())
    assert api_tokens.authenticate(plaintext) is None
    listing = StringIO()
    call_command("api_token", "list", "--user", service.email, stdout=listing)
    assert "revoked" in listing.getvalue()
    assert AuditEvent.objects.get(action="api_token.issue").actor_kind == "system"

    with pytest.raises(CommandError):
        call_command("api_token", "issue", "--user", "nobody@example.jp", "--name", "x")
    with pytest.raises(CommandError):
        call_command("api_token", "issue", "--user", make_resident().email, "--name", "x")
    with pytest.raises(CommandError):
        call_command("api_token", "revoke", "nosuchpx")
