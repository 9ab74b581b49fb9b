"""Sensitive fields are encrypted at rest and keys rotate without losing data."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from cityhall.core import crypto
from cityhall.people.models import ResidentProfile

pytestmark = pytest.mark.django_db


def _raw(profile: ResidentProfile) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, address FROM people_residentprofile WHERE id = %s", [profile.pk]
        )
        return cursor.fetchone()


def test_round_trip_and_damaged_values() -> None:
    token = crypto.encrypt("伊賀市四十九町3184")
    assert "伊賀" not in token
    assert crypto.decrypt(token) == "伊賀市四十九町3184"
    with pytest.raises(ValueError, match="cannot decrypt"):
        crypto.decrypt(token[:-4] + "AAAA")


def test_rotate_keys_reencrypts_every_row(resident: Any, settings: Any, capsys: Any) -> None:
    profile = resident.profile
    profile.phone, profile.address = "0595-22-2500", "伊賀市四十九町3184"
    profile.save()
    old_phone, _ = _raw(profile)

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_keys")
    assert "re-encrypted 1 rows" in capsys.readouterr().out
    new_phone, _ = _raw(profile)
    assert new_phone != old_phone

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    profile = ResidentProfile.objects.get(pk=profile.pk)
    assert profile.phone == "0595-22-2500" and profile.address == "伊賀市四十九町3184"
