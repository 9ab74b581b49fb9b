"""Residents in the staff console: search, audited reads of personal data, edits, closing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.people.models import ResidentProfile, User
from cityhall.people.services import staff as staff_services
from tests.conftest import PASSWORD, make_resident
from tests.people.test_staff_support import (
    as_staff,
    assert_error_summary,
    last_event,
    make_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako(geography: dict) -> User:
    user = make_resident(
        "hanako@example.jp",
        district=geography["ueno-tobu"],
        phone="0595-22-0000",
        address="伊賀市上野丸之内1",
        postal_code="518-0873",
        birth_year=1956,
    )
    user.display_name = "伊賀 花子"
    user.save()
    return user


def test_search_by_email_or_name_lists_no_personal_data_and_is_audited(hanako: User) -> None:
    world = make_world()
    make_resident("taro@example.jp")
    client = as_staff(world.clerk)

    response = client.get(reverse("staff:residents"))
    assert response.status_code == 200
    assert "hanako@example.jp" not in response.content.decode()  # no list without a search

    for query in ("hanako@", "花子"):
        response = client.get(reverse("staff:residents"), {"q": query})
        html = response.content.decode()
        assert response.status_code == 200
        assert "hanako@example.jp" in html and "taro@example.jp" not in html
        assert "伊賀 花子" in html and "上野東部" in html
        assert "0595-22-0000" not in html and "丸之内" not in html and "1956" not in html
        assert '<th scope="col">' in html and "<caption" in html and 'class="table-wrap"' in html
        event = last_event("staff.resident_search")
        assert event.details == {"query": query} and event.actor_id == world.clerk.pk


def test_staff_accounts_are_not_found_among_residents(hanako: User) -> None:
    world = make_world()
    html = as_staff(world.clerk).get(reverse("staff:residents"), {"q": "city.iga"}).content.decode()
    assert "clerk@city.iga.example" not in html
    assert (
        as_staff(world.clerk).get(reverse("staff:resident", args=[world.admin.pk])).status_code
        == 404
    )


def test_a_too_short_search_is_a_form_error(hanako: User) -> None:
    world = make_world()
    html = assert_error_summary(as_staff(world.clerk).get(reverse("staff:residents"), {"q": "h"}))
    assert "hanako@example.jp" not in html
    assert not AuditEvent.objects.filter(action="staff.resident_search").exists()


def test_every_view_of_a_resident_shows_decrypted_data_and_is_audited(hanako: User) -> None:
    world = make_world()
    client = as_staff(world.clerk)
    url = reverse("staff:resident", args=[hanako.pk])
    for n in (1, 2):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "0595-22-0000" in html and "伊賀市上野丸之内1" in html and "518-0873" in html
        assert html.count("<h1") == 1
        views = AuditEvent.objects.filter(action="staff.resident_view")
        assert views.count() == n
    event = last_event("staff.resident_view")
    assert event.subject_id == hanako.pk
    assert event.actor_id == world.clerk.pk and event.actor_kind == "staff"
    assert event.target_type == "people.user" and event.target_id == str(hanako.pk)
    # And at rest the phone and address stay encrypted.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, address FROM people_residentprofile WHERE user_id = %s", [hanako.pk]
        )
        phone, address = cursor.fetchone()
    assert "0595" not in phone and "丸之内" not in address


def test_the_edit_form_is_a_read_too(hanako: User) -> None:
    world = make_world()
    response = as_staff(world.manager).get(reverse("staff:resident_edit", args=[hanako.pk]))
    assert response.status_code == 200 and "0595-22-0000" in response.content.decode()
    event = last_event("staff.resident_view")
    assert event.details == {"page": "edit"} and event.subject_id == hanako.pk


def test_an_auditor_cannot_read_a_resident_and_leaves_no_view_entry(hanako: User) -> None:
    world = make_world()
    response = as_staff(world.auditor).get(reverse("staff:resident", args=[hanako.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="staff.resident_view").exists()
    with pytest.raises(PermissionDenied):
        staff_services.view_resident(world.auditor, hanako)


def test_staff_edit_a_profile_through_the_service_audited_as_staff(
    hanako: User, geography: dict
) -> None:
    world = make_world()
    client = as_staff(world.clerk)
    response = client.post(
        reverse("staff:resident_edit", args=[hanako.pk]),
        {
            "display_name": "伊賀 花子",
            "district": geography["aoyama-hokubu"].pk,
            "birth_year": "1956",
            "preferred_language": "pt-br",
            "phone": "０５９５－２２－１１１１",
            "postal_code": "5180873",
            "address": "伊賀市阿保1",
            "household_size": "2",
            "children_birth_years": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:resident", args=[hanako.pk])
    profile = ResidentProfile.objects.get(user=hanako)
    assert profile.phone == "0595-22-1111" and profile.address == "伊賀市阿保1"
    assert profile.district == geography["aoyama-hokubu"]
    assert profile.preferred_language == "pt-br"
    event = last_event("resident.profile_update")
    assert event.actor_id == world.clerk.pk and event.actor_kind == "staff"
    assert event.subject_id == hanako.pk
    assert set(event.details["fields"]) >= {"phone", "address", "district", "household_size"}
    assert "0595" not in str(event.details)  # names of fields, never their values


def test_a_bad_profile_edit_is_422_and_saves_nothing(hanako: User) -> None:
    world = make_world()
    client = as_staff(world.clerk)
    before = AuditEvent.objects.filter(action="resident.profile_update").count()
    response = client.post(
        reverse("staff:resident_edit", args=[hanako.pk]),
        {
            "display_name": "x",
            "birth_year": "3000",
            "preferred_language": "ja",
            "phone": "call me",
            "postal_code": "12",
            "address": "伊賀市阿保1",
        },
    )
    html = assert_error_summary(response)
    assert 'href="#id_phone"' in html and 'href="#id_birth_year"' in html
    assert 'aria-describedby="id_phone-error"' in html
    profile = ResidentProfile.objects.get(user=hanako)
    assert profile.phone == "0595-22-0000" and profile.address == "伊賀市上野丸之内1"
    hanako.refresh_from_db()
    assert hanako.display_name == "伊賀 花子"
    assert AuditEvent.objects.filter(action="resident.profile_update").count() == before


def test_close_and_reopen_a_resident_account_with_a_reason(hanako: User) -> None:
    world = make_world()
    client = as_staff(world.clerk)
    url = reverse("staff:resident_active", args=[hanako.pk])
    assert client.get(url).status_code == 200

    assert_error_summary(client.post(url, {"reason": "   "}))
    hanako.refresh_from_db()
    assert hanako.is_active

    response = client.post(url, {"reason": "本人から電話で依頼"})
    assert response.status_code == 302
    hanako.refresh_from_db()
    assert not hanako.is_active
    event = last_event("staff.resident_deactivate")
    assert event.subject_id == hanako.pk and event.actor_id == world.clerk.pk
    assert event.details == {"reason": "本人から電話で依頼"}
    response = Client().post(
        reverse("people:login"), {"username": hanako.email, "password": PASSWORD}
    )
    assert response.status_code == 422

    response = client.post(url, {"reason": "本人確認済み"})
    hanako.refresh_from_db()
    assert hanako.is_active
    assert last_event("staff.resident_reactivate").subject_id == hanako.pk


def test_services_refuse_staff_accounts_as_residents() -> None:
    world = make_world()
    with pytest.raises(PermissionDenied):
        staff_services.deactivate_user(world.clerk, world.manager, reason="x")
    with pytest.raises(PermissionDenied):
        staff_services.update_resident(world.clerk, world.manager, {"phone": "1"})
    world.manager.refresh_from_db()
    assert world.manager.is_active
