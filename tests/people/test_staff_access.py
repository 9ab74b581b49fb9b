"""Who reaches which staff page: nobody without TOTP, no resident ever, roles as documented."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from cityhall.people import staff_urls
from cityhall.people.models import Department, StaffAssignment
from tests.conftest import make_resident
from tests.people.test_staff_support import World, as_staff, english, make_world

pytestmark = pytest.mark.django_db

# Pages that must open without a TOTP-verified session (to get one).
OPEN = {"login", "logout", "set_password", "mfa"}


def _url(pattern: URLPattern, world: World | None = None) -> str:
    kwargs: dict[str, Any] = {}
    for name in pattern.pattern.converters:
        kwargs[name] = {"uidb64": "MQ", "token": "abc-def"}.get(name, 1)
    if world is not None and "pk" in kwargs:
        kwargs["pk"] = world.clerk.pk
    return reverse(f"staff:{pattern.name}", kwargs=kwargs)


PATTERNS = [p for p in staff_urls.urlpatterns if isinstance(p, URLPattern)]


def test_every_staff_url_is_in_the_list_below() -> None:
    names = {p.name for p in PATTERNS}
    assert names >= {"home", "residents", "departments", "members", "audit"}
    assert names >= OPEN


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.name for p in PATTERNS])
def test_no_staff_page_without_login_or_totp(pattern: URLPattern) -> None:
    world = make_world()
    url = _url(pattern, world)
    if pattern.name in OPEN:
        return
    for method in ("get", "post"):
        anonymous = Client()
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, (url, method)
        assert response["Location"].startswith("/staff/login/?next=")

        resident = Client()
        resident.force_login(make_resident(f"r-{pattern.name}-{method}@example.jp"))
        response = getattr(resident, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")

        # Password but no TOTP yet: only the TOTP step.
        for user in (world.admin, world.clerk):
            unverified = Client()
            unverified.force_login(user)
            response = getattr(unverified, method)(url)
            assert response.status_code == 302, (url, method, user)
            assert response["Location"] == reverse("staff:mfa")


def test_admin_pages_need_totp_too() -> None:
    world = make_world()
    for client in (Client(), Client()):
        client.force_login(world.admin)
        for url in ("/staff/admin/", "/staff/admin/people/department/", "/staff/admin/login/"):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == reverse("staff:mfa")


def test_residents_are_sent_to_the_staff_login() -> None:
    client = english(Client())
    client.force_login(make_resident())
    response = client.get(reverse("staff:home"))
    assert response["Location"] == "/staff/login/?next=/staff/"
    # And a resident's password does not open the console.
    response = client.post(
        reverse("staff:login"),
        {"username": "hanako@example.jp", "password": "a-long-and-unusual-passphrase"},
    )
    assert response.status_code == 422


# (page, method, roles that get in). The member pages use the shimin-seikatsu clerk.
MATRIX = [
    ("home", "get", {"clerk", "manager", "admin", "auditor"}),
    ("residents", "get", {"clerk", "manager", "admin"}),
    ("resident", "get", {"clerk", "manager", "admin"}),
    ("resident_edit", "get", {"clerk", "manager", "admin"}),
    ("resident_active", "get", {"clerk", "manager", "admin"}),
    ("departments", "get", {"admin"}),
    ("department_create", "get", {"admin"}),
    ("department_edit", "get", {"admin"}),
    ("members", "get", {"manager", "admin"}),
    ("member_create", "get", {"manager", "admin"}),
    ("member", "get", {"manager", "admin"}),
    ("assignment_add", "get", {"manager", "admin"}),
    ("assignment_edit", "get", {"manager", "admin"}),
    ("member_active", "get", {"manager", "admin"}),
    ("member_reset_password", "get", {"manager", "admin"}),
    ("member_reset_totp", "get", {"admin"}),
    ("audit", "get", {"auditor", "admin"}),
    ("audit_csv", "get", {"auditor", "admin"}),
    ("audit_verify", "post", {"auditor", "admin"}),
]


def _matrix_url(page: str, world: World, resident: Any) -> str:
    if page.startswith("resident") and page != "residents":
        return reverse(f"staff:{page}", args=[resident.pk])
    if page == "department_edit":
        return reverse("staff:department_edit", args=[Department.objects.get(code="zeimu").pk])
    if page == "assignment_edit":
        assignment = StaffAssignment.objects.get(user=world.clerk)
        return reverse("staff:assignment_edit", args=[world.clerk.pk, assignment.pk])
    if page in {
        "member",
        "assignment_add",
        "member_active",
        "member_reset_password",
        "member_reset_totp",
    }:
        return reverse(f"staff:{page}", args=[world.clerk.pk])
    if page == "residents":
        return reverse("staff:residents") + "?q=hanako"
    return reverse(f"staff:{page}")


@pytest.mark.parametrize("role", ["clerk", "manager", "admin", "auditor"])
def test_permission_matrix(role: str) -> None:
    world = make_world()
    resident = make_resident()
    client = as_staff(world.by_role(role))
    for page, method, allowed in MATRIX:
        url = _matrix_url(page, world, resident)
        response = getattr(client, method)(url)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, page, response.status_code)
        if expected == 403:
            assert "You may not see this page" in response.content.decode()


@pytest.mark.parametrize("role", ["clerk", "manager", "admin", "auditor"])
def test_the_nav_shows_only_the_sections_the_role_may_use(role: str) -> None:
    world = make_world()
    html = as_staff(world.by_role(role)).get(reverse("staff:home")).content.decode()
    nav = html.split('aria-label="Staff console"', 1)[1].split("</nav>", 1)[0]
    sections = {
        "residents": reverse("staff:residents"),
        "departments": reverse("staff:departments"),
        "members": reverse("staff:members"),
        "audit": reverse("staff:audit"),
    }
    allowed = {
        "clerk": {"residents"},
        "manager": {"residents", "members"},
        "admin": {"residents", "departments", "members", "audit"},
        "auditor": {"audit"},
    }[role]
    for name, url in sections.items():
        assert (f'href="{url}"' in nav) == (name in allowed), (role, name)
    assert 'aria-current="page"' in nav
    assert html.count("<h1") == 1
    assert "Log out" in html


def test_staff_without_any_role_see_only_their_home() -> None:
    world = make_world()
    StaffAssignment.objects.filter(user=world.clerk).delete()
    client = as_staff(world.clerk)
    assert client.get(reverse("staff:home")).status_code == 200
    for page in ("residents", "departments", "members", "audit"):
        assert client.get(reverse(f"staff:{page}")).status_code == 403


def test_a_manager_does_not_reach_staff_of_another_department() -> None:
    world = make_world()
    client = as_staff(world.manager)
    other = world.other_clerk
    assignment = StaffAssignment.objects.get(user=other)
    for url in (
        reverse("staff:member", args=[other.pk]),
        reverse("staff:assignment_add", args=[other.pk]),
        reverse("staff:assignment_edit", args=[other.pk, assignment.pk]),
        reverse("staff:member_active", args=[other.pk]),
        reverse("staff:member_reset_password", args=[other.pk]),
    ):
        assert client.get(url).status_code == 403, url
        if url != reverse("staff:member", args=[other.pk]):
            data = {"reason": "x", "department": 1, "role": "clerk"}
            assert client.post(url, data).status_code == 403, url
    other.refresh_from_db()
    assert other.is_active and other.has_usable_password()
    # An assignment id of another member under this member's URL is not found.
    own_assignment = StaffAssignment.objects.get(user=world.clerk)
    url = reverse("staff:assignment_edit", args=[other.pk, own_assignment.pk])
    assert client.get(url).status_code in (403, 404)
