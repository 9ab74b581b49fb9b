"""Staff login: password, then TOTP (enrolment or code), lockout, throttling, sessions, admin."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core.models import AuditEvent
from cityhall.people.models import Department, StaffAssignment, User
from cityhall.people.services import staff as staff_services
from tests.conftest import PASSWORD, make_resident, make_staff, totp_now
from tests.people.test_staff_support import (
    actions,
    as_staff,
    assert_error_summary,
    code_for,
    english,
    last_event,
)

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(reverse("staff:login"), {"username": email, "password": password, **extra})


def _staff_without_device(email: str = "new-staff@city.iga.example") -> User:
    department, _ = Department.objects.get_or_create(
        code="shimin-seikatsu", defaults={"name": "市民生活課"}
    )
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
    StaffAssignment.objects.create(user=user, department=department, role="clerk")
    return user


def test_login_page_is_accessible_and_in_the_staff_layout(client: Client) -> None:
    response = english(client).get(reverse("staff:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'class="staff"' in html and "Staff console" in html
    assert '<label for="id_username">' in html and '<label for="id_password">' in html


def test_first_login_enrols_a_totp_device_with_a_qr_code_and_a_real_code(client: Client) -> None:
    user = _staff_without_device()
    english(client)
    response = _login(client, user.email)
    assert response.status_code == 302 and response["Location"] == reverse("staff:mfa")

    # Not verified yet: every other staff page sends the member back to the TOTP step.
    assert client.get(reverse("staff:home"))["Location"] == reverse("staff:mfa")

    response = client.get(reverse("staff:mfa"))
    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert 'src="data:image/svg+xml' in html
    assert re.search(r'<img src="data:image/svg\+xml[^"]*" alt="[^"]*QR code', html)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert base64.b32decode(secret.replace(" ", "")) == device.bin_key
    assert all(len(group) == 4 for group in secret.split(" "))

    # The same secret is shown again on a reload (the member may have scanned it).
    client.get(reverse("staff:mfa"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    response = client.post(reverse("staff:mfa"), {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("staff:home")).status_code == 200
    assert "staff.totp_enrolled" in actions() and "staff.mfa_verified" in actions()


def test_login_with_an_existing_device_asks_for_the_code(client: Client, settings: Any) -> None:
    settings.STAFF_SESSION_AGE = 3600
    user = make_staff("clerk@city.iga.example", "clerk")
    english(client)
    response = _login(client, user.email, next="/staff/residents/")
    assert response["Location"] == reverse("staff:mfa")
    html = client.get(reverse("staff:mfa")).content.decode()
    assert "data:image/svg+xml" not in html and "Enter your code" in html

    response = client.post(reverse("staff:mfa"), {"code": totp_now(user)})
    assert response.status_code == 302
    assert response["Location"] == "/staff/residents/"  # back where the member was going
    assert client.get(reverse("staff:home")).status_code == 200
    # A staff session lasts STAFF_SESSION_AGE from the login, not the resident's two weeks.
    age = client.session.get_expiry_age()
    assert 3500 < age <= 3600
    assert last_event("auth.login").actor_id == user.pk


def test_the_next_parameter_cannot_leave_the_site(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    _login(client, user.email, next="https://evil.example/")
    response = client.post(reverse("staff:mfa"), {"code": totp_now(user)})
    assert response["Location"] == reverse("staff:home")


def test_wrong_codes_are_refused_audited_and_throttled(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    english(client)
    _login(client, user.email)
    right = totp_now(user)
    wrong = "000000" if right != "000000" else "111111"

    response = client.post(reverse("staff:mfa"), {"code": wrong})
    html = assert_error_summary(response)
    assert "The code is not right" in html
    event = last_event("staff.mfa_failed")
    assert event.actor_id == user.pk and event.details["failures"] == 1

    # django-otp's throttling: right after a failure even the right code is refused.
    response = client.post(reverse("staff:mfa"), {"code": right})
    assert "Too many wrong codes" in assert_error_summary(response)
    assert last_event("staff.mfa_throttled").actor_id == user.pk
    assert client.get(reverse("staff:home"))["Location"] == reverse("staff:mfa")

    # Once the wait is over, the right code works.
    TOTPDevice.objects.filter(user=user).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=30)
    )
    response = client.post(reverse("staff:mfa"), {"code": right})
    assert response.status_code == 302
    assert client.get(reverse("staff:home")).status_code == 200


def test_a_code_cannot_be_used_twice(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    _login(client, user.email)
    code = totp_now(user)
    assert client.post(reverse("staff:mfa"), {"code": code}).status_code == 302

    other = Client()
    _login(other, user.email)
    assert other.post(reverse("staff:mfa"), {"code": code}).status_code == 422


def test_malformed_code_is_a_form_error(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    english(client)
    _login(client, user.email)
    html = assert_error_summary(client.post(reverse("staff:mfa"), {"code": "12ab"}))
    assert "Enter the 6 digits" in html
    assert TOTPDevice.objects.get(user=user).throttling_failure_count == 0


def test_wrong_password_is_422_with_error_summary_and_audited(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    english(client)
    html = assert_error_summary(_login(client, user.email, "wrong-password"))
    assert "not right" in html
    assert last_event("auth.login_failed").details["username"] == user.email
    assert "_auth_user_id" not in client.session


def test_residents_and_closed_staff_accounts_cannot_log_in_here(client: Client) -> None:
    resident = make_resident()
    closed = make_staff("closed@city.iga.example", "clerk", is_active=False)
    english(client)
    for email in (resident.email, closed.email):
        html = assert_error_summary(_login(client, email))
        assert "not right" in html
        assert "_auth_user_id" not in client.session


def test_lockout_after_repeated_failures(client: Client, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    user = make_staff("clerk@city.iga.example", "clerk")
    english(client)
    assert _login(client, user.email, "wrong-1").status_code == 422
    assert _login(client, user.email, "wrong-2").status_code == 422
    response = _login(client, user.email, "wrong-3")
    assert response.status_code == 429
    assert "Login is locked" in response.content.decode()
    # Even the right password is refused while locked.
    assert _login(client, user.email).status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_is_rate_limited_per_address(client: Client, settings: Any) -> None:
    settings.LOGIN_RATE = "2/m"
    assert _login(client, "a@city.iga.example", "x").status_code == 422
    assert _login(client, "b@city.iga.example", "x").status_code == 422
    response = _login(client, "c@city.iga.example", "x")
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_logout_is_post_only_and_ends_the_session() -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    client = as_staff(user)
    assert client.get(reverse("staff:logout")).status_code == 405
    response = client.post(reverse("staff:logout"))
    assert response["Location"] == reverse("staff:login")
    response = client.get(reverse("staff:home"))
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert last_event("auth.logout").actor_id == user.pk


def test_verified_staff_visiting_login_go_home() -> None:
    client = as_staff(make_staff("clerk@city.iga.example", "clerk"))
    assert client.get(reverse("staff:login"))["Location"] == reverse("staff:home")


def test_set_password_link_works_once_then_login_enrols_totp(client: Client) -> None:
    admin_user = make_staff("admin@city.iga.example", "admin")
    department = Department.objects.get(code="shimin-seikatsu")
    created = staff_services.create_staff(
        admin_user,
        email="New.Person@City.Iga.Example",
        display_name="新人",
        department=department,
        role="clerk",
    )
    member = created.user
    assert member.email == "new.person@city.iga.example"
    assert not member.has_usable_password()
    english(client)
    # No password yet: nothing to log in with.
    assert _login(client, member.email, "").status_code == 422

    path = urlsplit(created.set_password_url).path
    response = client.get(path)
    assert response.status_code == 200
    new_password = "another-long-passphrase-2026"
    html = assert_error_summary(
        client.post(path, {"new_password1": new_password, "new_password2": "different-one-2026"})
    )
    assert 'href="#id_new_password2"' in html
    member.refresh_from_db()
    assert not member.has_usable_password()

    response = client.post(path, {"new_password1": new_password, "new_password2": new_password})
    assert response["Location"] == reverse("staff:login")
    member.refresh_from_db()
    assert member.check_password(new_password)
    assert last_event("staff.password_set").actor_id == member.pk

    # The link is used up.
    assert client.get(path).status_code == 400
    assert (
        client.get(path.replace("/login/set-password/", "/login/set-password/x")).status_code == 400
    )

    response = _login(client, member.email, new_password)
    assert response["Location"] == reverse("staff:mfa")
    assert "data:image/svg+xml" in client.get(reverse("staff:mfa")).content.decode()


def test_session_of_an_unverified_staff_member_only_reaches_mfa(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    client.force_login(user)
    assert client.get(reverse("staff:mfa")).status_code == 200
    response = client.get(reverse("staff:residents"))
    assert response["Location"] == reverse("staff:mfa")


def test_admin_site_requires_otp() -> None:
    assert isinstance(admin.site, OTPAdminSite)
    superuser = User.objects.create_superuser("root@city.iga.example", PASSWORD)
    TOTPDevice.objects.create(user=superuser, name="default", confirmed=True)

    unverified = Client()
    unverified.force_login(superuser)
    response = unverified.get("/staff/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("staff:mfa")

    verified = as_staff(superuser)
    assert verified.get("/staff/admin/").status_code == 200
    assert verified.get("/staff/admin/people/department/").status_code == 200


def test_admin_site_is_read_mostly_for_role_admins() -> None:
    admin_user = make_staff("admin@city.iga.example", "admin")
    clerk = make_staff("clerk@city.iga.example", "clerk")
    client = as_staff(admin_user)
    assert client.get("/staff/admin/people/department/").status_code == 200
    assert client.get("/staff/admin/people/department/add/").status_code == 403
    assert client.get("/staff/admin/core/auditevent/").status_code == 200
    assert client.get("/staff/admin/core/auditevent/add/").status_code == 403
    # TOTP secrets are never shown in the admin.
    assert client.get("/staff/admin/otp_totp/totpdevice/").status_code == 404
    # A clerk may enter the admin but sees nothing in it.
    clerk_client = as_staff(clerk)
    assert clerk_client.get("/staff/admin/people/department/").status_code == 403


def test_a_closed_staff_account_loses_its_session() -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    client = as_staff(user)
    assert client.get(reverse("staff:home")).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(reverse("staff:home"))
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == ["/staff/"]
    assert AuditEvent.objects.filter(action="staff.resident_view").count() == 0


def test_the_email_address_is_not_case_sensitive(client: Client) -> None:
    user = make_staff("clerk@city.iga.example", "clerk")
    response = _login(client, " Clerk@City.Iga.Example ")
    assert response.status_code == 302 and response["Location"] == reverse("staff:mfa")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_change_in_the_admin_is_audited(geography: dict) -> None:
    admin_user = make_staff("admin@city.iga.example", "admin")
    district = geography["ueno-tobu"]
    client = as_staff(admin_user)
    url = f"/staff/admin/core/district/{district.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "上野東部地区",
            "kana": "うえのとうぶ",
            "names": '{"en": "Ueno East"}',
            "code": district.code,
            "area": district.area_id,
            "order": 1,
            "population_share": 0.0,
            "name_confirmed": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    district.refresh_from_db()
    assert district.name == "上野東部地区"
    event = last_event("admin.change")
    assert event.actor_id == admin_user.pk and event.target_type == "core.district"
    assert "name" in event.details["fields"]
