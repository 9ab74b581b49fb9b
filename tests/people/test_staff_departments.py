"""Departments: administrators create and change them; bad input saves nothing; all audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.people.models import Department
from cityhall.people.services import staff as staff_services
from tests.people.test_staff_support import as_staff, assert_error_summary, last_event, make_world

pytestmark = pytest.mark.django_db

VALID = {
    "code": "tabunka",
    "name": "多文化共生課",
    "kana": "たぶんかきょうせいか",
    "name_en": "Multicultural Affairs",
    "name_pt_br": "Divisão de Convivência Multicultural",
    "name_vi": "",
    "name_zh_hans": "多元文化共生课",
    "name_es": "",
    "parent": "",
    "phone": "0595-22-9702",
    "email": "tabunka@city.iga.example",
    "location": "本庁舎2階",
    "duties": "外国人住民の相談",
    "is_active": "on",
}


def test_list_shows_departments_in_an_accessible_table() -> None:
    world = make_world()
    response = as_staff(world.admin).get(reverse("staff:departments"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<caption" in html and '<th scope="col">' in html and 'class="table-wrap"' in html
    for code in ("shimin-seikatsu", "zeimu", "kansa"):
        assert code in html


def test_admin_creates_a_department_with_names_in_other_languages() -> None:
    world = make_world()
    client = as_staff(world.admin)
    assert client.get(reverse("staff:department_create")).status_code == 200
    response = client.post(reverse("staff:department_create"), VALID)
    assert response.status_code == 302 and response["Location"] == reverse("staff:departments")
    department = Department.objects.get(code="tabunka")
    assert department.names == {
        "en": "Multicultural Affairs",
        "pt-br": "Divisão de Convivência Multicultural",
        "zh-hans": "多元文化共生课",
    }
    assert department.localized_name("pt-br").startswith("Divisão")
    assert department.is_active and department.phone == "0595-22-9702"
    event = last_event("staff.department_create")
    assert event.actor_id == world.admin.pk and event.target_id == str(department.pk)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "shimin-seikatsu"}, "code"),  # taken
        ({"code": "not a slug!"}, "code"),
        ({"name": ""}, "name"),
        ({"phone": "call us"}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"parent": "999999"}, "parent"),
    ],
)
def test_bad_department_input_is_422_and_saves_nothing(change: dict, field: str) -> None:
    world = make_world()
    count = Department.objects.count()
    response = as_staff(world.admin).post(reverse("staff:department_create"), {**VALID, **change})
    html = assert_error_summary(response)
    assert f'href="#id_{field}"' in html
    assert Department.objects.count() == count
    assert not AuditEvent.objects.filter(action="staff.department_create").exists()


def test_admin_edits_a_department_and_the_change_is_audited() -> None:
    world = make_world()
    client = as_staff(world.admin)
    department = Department.objects.get(code="zeimu")
    parent = Department.objects.get(code="joho-seisaku")
    url = reverse("staff:department_edit", args=[department.pk])
    html = client.get(url).content.decode()
    assert 'value="zeimu"' in html
    response = client.post(
        url,
        {**VALID, "code": "zeimu", "name": "税務課", "parent": parent.pk, "is_active": ""},
    )
    assert response.status_code == 302
    department.refresh_from_db()
    assert department.name == "税務課" and department.parent == parent and not department.is_active
    event = last_event("staff.department_update")
    assert {"name", "parent", "is_active", "names"} <= set(event.details["fields"])


def test_a_department_cannot_be_put_inside_itself() -> None:
    world = make_world()
    client = as_staff(world.admin)
    top = Department.objects.get(code="joho-seisaku")
    child = Department.objects.get(code="zeimu")
    staff_services.update_department(world.admin, child, {"parent": top})
    response = client.post(
        reverse("staff:department_edit", args=[top.pk]),
        {**VALID, "code": "joho-seisaku", "name": "情報政策課", "parent": child.pk},
    )
    assert "inside itself" in assert_error_summary(response)
    top.refresh_from_db()
    assert top.parent is None


def test_only_administrators_may_change_departments_even_through_the_service() -> None:
    world = make_world()
    for user in (world.clerk, world.manager, world.auditor):
        with pytest.raises(PermissionDenied):
            staff_services.create_department(user, {"code": "x", "name": "x"})
        with pytest.raises(PermissionDenied):
            staff_services.update_department(
                user, Department.objects.get(code="zeimu"), {"name": "x"}
            )
        response = as_staff(user).post(reverse("staff:department_create"), VALID)
        assert response.status_code == 403
    assert not Department.objects.filter(code="tabunka").exists()
