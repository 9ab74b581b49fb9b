"""Staff management: managers for their own department only, admins for all; all audited."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core.models import AuditEvent
from cityhall.people.models import Department, Role, StaffAssignment, User
from cityhall.people.services import staff as staff_services
from tests.conftest import PASSWORD, make_staff
from tests.people.test_staff_support import (
    as_staff,
    assert_error_summary,
    last_event,
    make_world,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r'id="set-password-link">([^<]+)<')


def _new_member(department: Department, role: str = "clerk", **extra: str) -> dict:
    return {
        "email": "shinnin@city.iga.example",
        "display_name": "新人 一郎",
        "department": department.pk,
        "role": role,
        "title": "主事",
        **extra,
    }


def test_manager_lists_only_staff_of_own_department() -> None:
    world = make_world()
    html = as_staff(world.manager).get(reverse("staff:members")).content.decode()
    assert "clerk@city.iga.example" in html and "manager@city.iga.example" in html
    assert "zeimu-clerk@city.iga.example" not in html and "admin@city.iga.example" not in html
    html = as_staff(world.admin).get(reverse("staff:members")).content.decode()
    assert "zeimu-clerk@city.iga.example" in html and "auditor@city.iga.example" in html


def test_manager_creates_a_clerk_and_sees_the_set_password_link_once() -> None:
    world = make_world()
    client = as_staff(world.manager)
    department = Department.objects.get(code="shimin-seikatsu")
    response = client.post(reverse("staff:member_create"), _new_member(department))
    assert response.status_code == 302
    member = User.objects.get(email="shinnin@city.iga.example")
    assert response["Location"] == reverse("staff:member", args=[member.pk])
    assert member.is_staff and member.display_name == "新人 一郎"
    assert not member.has_usable_password()
    assignment = StaffAssignment.objects.get(user=member)
    assert (assignment.department, assignment.role, assignment.title) == (
        department,
        "clerk",
        "主事",
    )
    event = last_event("staff.member_create")
    assert event.actor_id == world.manager.pk and event.target_id == str(member.pk)
    assert event.details == {"department": "shimin-seikatsu", "role": "clerk", "title": "主事"}

    html = client.get(response["Location"]).content.decode()
    link = LINK.search(html).group(1)
    assert "/staff/login/set-password/" in link
    # Shown only once.
    assert not LINK.search(client.get(response["Location"]).content.decode())
    # The link works for the new member.
    assert Client().get(urlsplit(link).path).status_code == 200


def test_manager_cannot_hand_out_admin_or_auditor_roles() -> None:
    world = make_world()
    client = as_staff(world.manager)
    department = Department.objects.get(code="shimin-seikatsu")
    html = client.get(reverse("staff:member_create")).content.decode()
    assert 'value="admin"' not in html and 'value="auditor"' not in html
    for role in ("admin", "auditor"):
        html = assert_error_summary(
            client.post(reverse("staff:member_create"), _new_member(department, role))
        )
        assert 'href="#id_role"' in html
        with pytest.raises(PermissionDenied):
            staff_services.create_staff(
                world.manager,
                email=f"{role}2@city.iga.example",
                display_name="x",
                department=department,
                role=role,
            )
    assert not User.objects.filter(email__in=["shinnin@city.iga.example"]).exists()
    # Nor make an existing clerk an administrator.
    assignment = StaffAssignment.objects.get(user=world.clerk)
    url = reverse("staff:assignment_edit", args=[world.clerk.pk, assignment.pk])
    assert_error_summary(
        client.post(url, {"department": department.pk, "role": "admin", "title": ""})
    )
    with pytest.raises(PermissionDenied):
        staff_services.update_assignment(
            world.manager, assignment, department=department, role=Role.ADMIN
        )
    assignment.refresh_from_db()
    assert assignment.role == "clerk"


def test_manager_cannot_create_staff_in_another_department() -> None:
    world = make_world()
    client = as_staff(world.manager)
    zeimu = Department.objects.get(code="zeimu")
    html = assert_error_summary(client.post(reverse("staff:member_create"), _new_member(zeimu)))
    assert 'href="#id_department"' in html
    with pytest.raises(PermissionDenied):
        staff_services.create_staff(
            world.manager,
            email="x@city.iga.example",
            display_name="x",
            department=zeimu,
            role="clerk",
        )
    assert not User.objects.filter(email="shinnin@city.iga.example").exists()
    assert not AuditEvent.objects.filter(action="staff.member_create").exists()


def test_manager_cannot_move_own_staff_to_another_department() -> None:
    world = make_world()
    zeimu = Department.objects.get(code="zeimu")
    assignment = StaffAssignment.objects.get(user=world.clerk)
    url = reverse("staff:assignment_edit", args=[world.clerk.pk, assignment.pk])
    assert_error_summary(
        as_staff(world.manager).post(url, {"department": zeimu.pk, "role": "clerk", "title": ""})
    )
    with pytest.raises(PermissionDenied):
        staff_services.update_assignment(world.manager, assignment, department=zeimu, role="clerk")
    assignment.refresh_from_db()
    assert assignment.department.code == "shimin-seikatsu"


def test_manager_cannot_manage_an_administrator_placed_in_own_department() -> None:
    world = make_world()
    department = Department.objects.get(code="shimin-seikatsu")
    StaffAssignment.objects.create(user=world.admin, department=department, role="admin")
    client = as_staff(world.manager)
    html = client.get(reverse("staff:member", args=[world.admin.pk])).content.decode()
    assert reverse("staff:member_active", args=[world.admin.pk]) not in html
    for name in ("member_active", "member_reset_password", "assignment_add"):
        url = reverse(f"staff:{name}", args=[world.admin.pk])
        assert client.post(url, {"reason": "x"}).status_code == 403
    world.admin.refresh_from_db()
    assert world.admin.is_active and world.admin.has_usable_password()


def test_nobody_changes_their_own_account_here() -> None:
    world = make_world()
    for user in (world.manager, world.admin):
        client = as_staff(user)
        assignment = StaffAssignment.objects.filter(user=user).first()
        for url in (
            reverse("staff:member_active", args=[user.pk]),
            reverse("staff:assignment_edit", args=[user.pk, assignment.pk]),
            reverse("staff:member_reset_password", args=[user.pk]),
            reverse("staff:member_reset_totp", args=[user.pk]),
        ):
            assert client.post(url, {"reason": "x"}).status_code == 403, url


def test_admin_changes_a_role_and_the_change_is_audited_with_before_and_after() -> None:
    world = make_world()
    assignment = StaffAssignment.objects.get(user=world.other_clerk)
    url = reverse("staff:assignment_edit", args=[world.other_clerk.pk, assignment.pk])
    response = as_staff(world.admin).post(
        url, {"department": assignment.department_id, "role": "manager", "title": "課長補佐"}
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.role == "manager" and assignment.title == "課長補佐"
    event = last_event("staff.assignment_update")
    assert event.details["before"] == {"department": "zeimu", "role": "clerk", "title": ""}
    assert event.details["after"] == {"department": "zeimu", "role": "manager", "title": "課長補佐"}
    assert event.actor_id == world.admin.pk


def test_admin_adds_a_member_to_a_second_department_but_not_twice() -> None:
    world = make_world()
    client = as_staff(world.admin)
    kansa = Department.objects.get(code="kansa")
    url = reverse("staff:assignment_add", args=[world.clerk.pk])
    response = client.post(url, {"department": kansa.pk, "role": "auditor", "title": ""})
    assert response.status_code == 302
    assert StaffAssignment.objects.filter(user=world.clerk).count() == 2
    assert last_event("staff.assignment_create").details["role"] == "auditor"
    html = assert_error_summary(
        client.post(url, {"department": kansa.pk, "role": "clerk", "title": ""})
    )
    assert "already works" in html
    assert StaffAssignment.objects.filter(user=world.clerk).count() == 2


def test_duplicate_email_and_missing_name_are_422() -> None:
    world = make_world()
    client = as_staff(world.admin)
    department = Department.objects.get(code="zeimu")
    for data, field in (
        (_new_member(department, email="CLERK@city.iga.example"), "email"),
        (_new_member(department, display_name=""), "display_name"),
        (_new_member(department, email="not-an-email"), "email"),
    ):
        html = assert_error_summary(client.post(reverse("staff:member_create"), data))
        assert f'href="#id_{field}"' in html
    assert User.objects.filter(is_staff=True).count() == 6


def test_manager_closes_a_clerk_account_and_the_clerk_is_logged_out() -> None:
    world = make_world()
    clerk_client = as_staff(world.clerk)
    assert clerk_client.get(reverse("staff:home")).status_code == 200
    url = reverse("staff:member_active", args=[world.clerk.pk])
    client = as_staff(world.manager)
    assert_error_summary(client.post(url, {"reason": ""}))
    assert client.post(url, {"reason": "退職"}).status_code == 302
    world.clerk.refresh_from_db()
    assert not world.clerk.is_active
    assert last_event("staff.member_deactivate").details == {"reason": "退職"}
    response = clerk_client.get(reverse("staff:home"))
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert client.post(url, {"reason": "復職"}).status_code == 302
    world.clerk.refresh_from_db()
    assert world.clerk.is_active
    assert last_event("staff.member_reactivate").actor_id == world.manager.pk


def test_reset_password_ends_the_old_password_and_gives_a_new_link() -> None:
    world = make_world()
    client = as_staff(world.manager)
    url = reverse("staff:member_reset_password", args=[world.clerk.pk])
    response = client.post(url)
    assert response["Location"] == reverse("staff:member", args=[world.clerk.pk])
    world.clerk.refresh_from_db()
    assert not world.clerk.check_password(PASSWORD)
    assert last_event("staff.password_reset").target_id == str(world.clerk.pk)
    link = LINK.search(client.get(response["Location"]).content.decode()).group(1)
    assert Client().get(urlsplit(link).path).status_code == 200


def test_only_admins_reset_totp_and_the_member_enrols_again() -> None:
    world = make_world()
    url = reverse("staff:member_reset_totp", args=[world.clerk.pk])
    assert as_staff(world.manager).post(url).status_code == 403
    with pytest.raises(PermissionDenied):
        staff_services.reset_totp(world.manager, world.clerk)
    assert TOTPDevice.objects.filter(user=world.clerk).exists()

    clerk_client = as_staff(world.clerk)
    response = as_staff(world.admin).post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.clerk).exists()
    event = last_event("staff.totp_reset")
    assert event.actor_id == world.admin.pk and event.details == {"devices": 1}
    # The clerk's session no longer counts as verified: they must enrol a new app.
    assert clerk_client.get(reverse("staff:home"))["Location"] == reverse("staff:mfa")
    html = clerk_client.get(reverse("staff:mfa")).content.decode()
    assert "data:image/svg+xml" in html


def test_member_detail_is_accessible() -> None:
    world = make_world()
    member = make_staff("second@city.iga.example", "clerk", "shimin-seikatsu")
    html = as_staff(world.admin).get(reverse("staff:member", args=[member.pk])).content.decode()
    assert html.count("<h1") == 1 and "<caption" in html and 'scope="row"' in html
