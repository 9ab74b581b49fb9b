"""Front door, my page, profile, languages, display settings and object-level access."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.people.models import ResidentProfile
from cityhall.people.services import accounts

pytestmark = pytest.mark.django_db

LANGS = ["ja", "ja-easy", "pt-br", "vi", "zh-hans", "es", "en"]
HTML_LANG = {
    "ja": "ja",
    "ja-easy": "ja",
    "pt-br": "pt-BR",
    "vi": "vi",
    "zh-hans": "zh-Hans",
    "es": "es",
    "en": "en",
}


@pytest.mark.parametrize("lang", LANGS)
def test_home_in_every_language(client: Any, lang: str) -> None:
    client.cookies["cityhall_lang"] = lang
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{HTML_LANG[lang]}"' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    for code in LANGS:
        assert f"/language/{code}/" in html


def test_home_lists_life_events(client: Any) -> None:
    html = client.get("/").content.decode()
    for slug in ("moving", "birth", "childcare", "school", "care", "bereavement", "from-abroad"):
        assert reverse("portal:life_event", args=[slug]) in html
    assert client.get(reverse("portal:life_event", args=["nothing"])).status_code == 404


def test_language_link_sets_cookie_and_refuses_foreign_redirects(client: Any) -> None:
    response = client.get("/language/vi/?next=/privacy/")
    assert response.status_code == 302 and response["Location"] == "/privacy/"
    assert client.cookies["cityhall_lang"].value == "vi"
    response = client.get("/language/vi/?next=https://evil.example/")
    assert response["Location"] == "/"
    assert client.get("/language/xx/").status_code == 404


def test_furigana_toggle_adds_ruby_over_kanji(client: Any) -> None:
    client.cookies["cityhall_lang"] = "ja"
    assert "<ruby>" not in client.get("/").content.decode()
    response = client.get(reverse("portal:display"), {"furigana": "1", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "<ruby>" in html and "<rt>" in html
    # Never inside the title or attribute values
    title = html.split("<title>")[1].split("</title>")[0]
    assert "<ruby>" not in title


def test_easy_japanese_has_furigana_by_default_and_can_turn_it_off(client: Any) -> None:
    client.cookies["cityhall_lang"] = "ja-easy"
    assert "<ruby>" in client.get("/").content.decode()
    client.get(reverse("portal:display"), {"furigana": "0", "next": "/"})
    assert "<ruby>" not in client.get("/").content.decode()


def test_larger_text(client: Any) -> None:
    client.get(reverse("portal:display"), {"textsize": "large", "next": "/"})
    assert 'class="text-large"' in client.get("/").content.decode()


def test_display_settings_saved_on_the_profile_follow_the_resident(
    client: Any, resident: Any, password: str
) -> None:
    client.force_login(resident)
    response = client.post(
        reverse("portal:profile"),
        {"preferred_language": "ja", "furigana": "on", "large_text": "on"},
    )
    assert response.status_code == 302
    profile = ResidentProfile.objects.get(user=resident)
    assert profile.furigana and profile.large_text
    client.logout()
    client.cookies.clear()
    client.post(reverse("people:login"), {"username": resident.email, "password": password})
    assert client.cookies["cityhall_furigana"].value == "1"
    assert client.cookies["cityhall_textsize"].value == "large"


def test_mypage_needs_login(client: Any) -> None:
    response = client.get(reverse("portal:mypage"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("people:login"))


def test_profile_edit_saves_and_encrypts(
    resident_client: Any, resident: Any, geography: Any
) -> None:
    district = geography["aoyama-hokubu"]
    response = resident_client.post(
        reverse("portal:profile"),
        {
            "display_name": "はなこ",
            "district": str(district.pk),
            "birth_year": "1948",
            "household_size": "3",
            "children_birth_years": "２０１８、2021",
            "care_in_household": "on",
            "preferred_language": "ja-easy",
            "interests": ["elderly", "disaster"],
            "channels": ["email"],
            "phone": "０５９５－５２－１１１１",
            "postal_code": "5180226",
            "address": "伊賀市阿保1411-1",
            "consents": ["personalise", "emergency"],
        },
    )
    assert response.status_code == 302
    profile = ResidentProfile.objects.get(user=resident)
    assert profile.district == district
    assert profile.children_birth_years == [2018, 2021]
    assert profile.phone == "0595-52-1111"
    assert profile.postal_code == "518-0226"
    assert resident_client.cookies["cityhall_lang"].value == "ja-easy"
    assert accounts.consents(resident)["emergency"] is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, address FROM people_residentprofile WHERE id = %s", [profile.pk]
        )
        raw_phone, raw_address = cursor.fetchone()
    assert "0595" not in raw_phone and "伊賀" not in raw_address
    event = AuditEvent.objects.filter(action="resident.profile_update").get()
    assert "phone" in event.details["fields"]
    assert "0595" not in str(event.details)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birth_year", "2999"),
        ("children_birth_years", "1800"),
        ("postal_code", "12"),
        ("phone", "call me"),
        ("preferred_language", "klingon"),
        ("interests", "everything"),
        ("district", "999999"),
    ],
)
def test_profile_rejects_bad_input_and_saves_nothing(
    resident_client: Any, resident: Any, field: str, value: str
) -> None:
    data = {"preferred_language": "ja", "display_name": "changed", field: value}
    response = resident_client.post(reverse("portal:profile"), data)
    assert response.status_code == 422
    assert 'class="error-summary"' in response.content.decode()
    resident.refresh_from_db()
    assert resident.display_name == ""


RESIDENT_URLS = ["portal:mypage", "portal:profile"]


@pytest.mark.parametrize("name", RESIDENT_URLS)
def test_each_resident_page_shows_only_the_logged_in_residents_data(
    client: Any, resident: Any, other_resident: Any, name: str
) -> None:
    accounts.update_profile(other_resident, {"phone": "090-9999-0000", "address": "他人の住所"})
    client.force_login(resident)
    html = client.get(reverse(name)).content.decode()
    assert other_resident.email not in html
    assert "090-9999-0000" not in html and "他人の住所" not in html


@pytest.mark.parametrize("name", RESIDENT_URLS)
def test_staff_are_sent_away_from_resident_pages(clerk_client: Any, name: str) -> None:
    response = clerk_client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:home")


def test_security_headers(client: Any) -> None:
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


def test_csrf_is_enforced(resident: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = client.post(reverse("portal:profile"), {"preferred_language": "en"})
    assert response.status_code == 403
    assert "form expired" in response.content.decode() or "フォーム" in response.content.decode()


def test_not_found_page_is_html_and_translated(client: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
