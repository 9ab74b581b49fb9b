"""Public pages are cached per language and display settings, never for logged-in people."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cityhall.core.models import Facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings: Any) -> Client:
    settings.PAGE_CACHE_SECONDS = 60
    return Client()


def _hall(name: str) -> None:
    Facility.objects.update_or_create(
        code="city-hall", defaults={"name": name, "kind": Facility.Kind.CITY_HALL}
    )


def test_anonymous_home_is_served_from_the_cache(cached: Client) -> None:
    _hall("伊賀市役所")
    assert "伊賀市役所" in cached.get("/").content.decode()
    _hall("新しい市役所")
    assert "伊賀市役所" in cached.get("/").content.decode()  # cached copy


def test_key_includes_language_and_display_cookies(cached: Client) -> None:
    _hall("伊賀市役所")
    cached.get("/")
    _hall("新しい市役所")
    cached.cookies["cityhall_lang"] = "en"
    assert "新しい市役所" in cached.get("/").content.decode()
    cached.cookies["cityhall_furigana"] = "1"
    html = cached.get("/").content.decode()
    assert "<ruby>" in html and '<html lang="en"' in html


def test_logged_in_visitors_bypass_the_cache(cached: Client, resident: Any) -> None:
    _hall("伊賀市役所")
    cached.get("/")
    _hall("新しい市役所")
    cached.force_login(resident)
    html = cached.get("/").content.decode()
    assert "新しい市役所" in html and resident.email not in html


def test_private_pages_are_never_cached(cached: Client) -> None:
    first = cached.get("/account/signup/")
    second = cached.get("/account/signup/")
    assert "csrftoken" in first.cookies or "csrfmiddlewaretoken" in first.content.decode()
    assert first.content != second.content or "csrftoken" in second.cookies


def test_turned_off_with_zero(settings: Any) -> None:
    settings.PAGE_CACHE_SECONDS = 0
    client = Client()
    _hall("伊賀市役所")
    client.get("/")
    _hall("新しい市役所")
    assert "新しい市役所" in client.get("/").content.decode()
