"""Every staff page keeps the house rules: one h1, a label for each control, tables with
caption and header scopes inside a scrolling wrapper, and the staff layout."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.people.models import Department, StaffAssignment, User
from tests.conftest import PASSWORD, make_resident
from tests.people.test_staff_support import as_staff, english, make_world

pytestmark = pytest.mark.django_db

SKIP_INPUT_TYPES = {"hidden", "submit", "button"}


class PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.labels: set[str] = set()
        self.controls: list[tuple[str, dict[str, Any]]] = []
        self.tables = 0
        self.captions = 0
        self.th_without_scope = 0
        self.stack: list[tuple[str, dict[str, Any]]] = []
        self.tables_outside_wrap = 0
        self.imgs_without_alt = 0
        self.body_class = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.body_class = a.get("class") or ""
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in {"input", "select", "textarea"} and (
            tag != "input" or (a.get("type") or "text") not in SKIP_INPUT_TYPES
        ):
            self.controls.append((tag, a))
        if tag == "table":
            self.tables += 1
            if not any("table-wrap" in (p.get("class") or "") for _, p in self.stack):
                self.tables_outside_wrap += 1
        if tag == "caption":
            self.captions += 1
        if tag == "th" and not a.get("scope"):
            self.th_without_scope += 1
        if tag == "img" and not a.get("alt"):
            self.imgs_without_alt += 1
        if tag not in {"input", "img", "br", "meta", "link", "hr"}:
            self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def check(response: Any, url: str) -> None:
    assert response.status_code in (200, 422), (url, response.status_code)
    page = PageAudit()
    page.feed(response.content.decode())
    assert page.h1 == 1, url
    assert "staff" in page.body_class.split(), url
    for tag, attrs in page.controls:
        assert attrs.get("id") in page.labels or attrs.get("aria-label"), (url, tag, attrs)
    assert page.tables == page.captions, url
    assert page.th_without_scope == 0, url
    assert page.tables_outside_wrap == 0, url
    assert page.imgs_without_alt == 0, url


def test_every_staff_page_for_an_administrator() -> None:
    world = make_world()
    resident = make_resident()
    department = Department.objects.get(code="zeimu")
    assignment = StaffAssignment.objects.get(user=world.clerk)
    client = as_staff(world.admin)
    urls = [
        reverse("staff:home"),
        reverse("staff:residents"),
        reverse("staff:residents") + "?q=hanako",
        reverse("staff:residents") + "?q=h",
        reverse("staff:resident", args=[resident.pk]),
        reverse("staff:resident_edit", args=[resident.pk]),
        reverse("staff:resident_active", args=[resident.pk]),
        reverse("staff:departments"),
        reverse("staff:department_create"),
        reverse("staff:department_edit", args=[department.pk]),
        reverse("staff:members"),
        reverse("staff:member_create"),
        reverse("staff:member", args=[world.clerk.pk]),
        reverse("staff:assignment_add", args=[world.clerk.pk]),
        reverse("staff:assignment_edit", args=[world.clerk.pk, assignment.pk]),
        reverse("staff:member_active", args=[world.clerk.pk]),
        reverse("staff:member_reset_password", args=[world.clerk.pk]),
        reverse("staff:member_reset_totp", args=[world.clerk.pk]),
        reverse("staff:audit"),
        reverse("staff:audit") + "?subject=x",
    ]
    for url in urls:
        check(client.get(url), url)
    check(client.post(reverse("staff:audit_verify")), "verify")
    # Invalid forms too (422 with the error summary).
    for url, data in (
        (reverse("staff:department_create"), {"code": "bad code"}),
        (reverse("staff:member_create"), {"email": "x"}),
        (reverse("staff:resident_edit", args=[resident.pk]), {"phone": "x"}),
        (reverse("staff:member_active", args=[world.clerk.pk]), {"reason": ""}),
    ):
        response = client.post(url, data)
        assert response.status_code == 422
        check(response, url)


def test_login_and_totp_pages(client: Client) -> None:
    english(client)
    check(client.get(reverse("staff:login")), "login")
    check(client.post(reverse("staff:login"), {"username": "x", "password": ""}), "login 422")
    user = User.objects.create_user(email="n@city.iga.example", password=PASSWORD, is_staff=True)
    client.post(reverse("staff:login"), {"username": user.email, "password": PASSWORD})
    check(client.get(reverse("staff:mfa")), "mfa enrol")
    check(client.post(reverse("staff:mfa"), {"code": "x"}), "mfa 422")
