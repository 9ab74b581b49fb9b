"""The segment pages of the staff console: who may use them, the form with its facets,
the count without JavaScript, the live preview (fragment and JSON), the error summary,
saving, changing and deleting, and the audit entry for each sample shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.notices.models import Segment
from cityhall.notices.services import segments
from tests.conftest import login_staff
from tests.notices.segments_support import (
    YEAR,
    City,
    build_city,
    consent,
    koho_clerk,
    other_clerk,
    person,
)

pytestmark = pytest.mark.django_db

PAGES = ["noticestaff:segments", "noticestaff:segment_new", "noticestaff:segment_preview"]


@pytest.fixture
def city(db: Any) -> City:
    return build_city()


@pytest.fixture
def koho(client: Any, city: City) -> Any:
    client.cookies["cityhall_lang"] = "en"
    return login_staff(client, koho_clerk())


@pytest.fixture
def residents(city: City) -> list[Any]:
    """Ueno East: three older carers who agreed to messages, one who withdrew; Aoyama: one."""
    older = [
        person(
            f"older{n}@example.jp",
            district=city.ueno_tobu,
            birth_year=YEAR - 70,
            care_in_household=True,
            channels=["inbox"],
        )
        for n in range(3)
    ]
    withdrew = person(
        "withdrew@example.jp",
        district=city.ueno_tobu,
        birth_year=YEAR - 70,
        care_in_household=True,
    )
    consent(withdrew, "notify", False)
    aoyama = person("aoyama@example.jp", district=city.aoyama_hokubu, birth_year=YEAR - 30)
    return [*older, withdrew, aoyama]


def test_a_clerk_of_another_department_is_refused(client: Any, city: City) -> None:
    segment = Segment.objects.create(name="All", filters={})
    login_staff(client, other_clerk())
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("noticestaff:segment", args=[segment.pk])).status_code == 403
    assert client.post(reverse("noticestaff:segment_new"), {"action": "save"}).status_code == 403
    assert client.post(reverse("noticestaff:segment_preview"), {}).status_code == 403
    assert not AuditEvent.objects.filter(action="notices.segment_sample").exists()


def test_staff_pages_need_a_staff_login(client: Any, city: City) -> None:
    response = client.get(reverse("noticestaff:segments"))
    assert response.status_code in (302, 403)


def test_list_shows_saved_segments_with_their_count(koho: Any, residents: list[Any]) -> None:
    segments.save_segment(
        "Ueno East", "festival", {"districts": ["ueno-tobu"]}, actor=koho_clerk("a@city.example")
    )
    response = koho.get(reverse("noticestaff:segments"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ueno East" in html and "festival" in html
    assert "Districts: 上野東部" in html or "Districts: Ueno East" in html
    assert ">3<" in html  # three agreed to messages; the one who withdrew is not counted
    assert 'aria-current="page"' in html  # the Messages section of the staff nav


def test_form_groups_districts_by_area_in_fieldsets(koho: Any) -> None:
    response = koho.get(reverse("noticestaff:segment_new"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<legend>Ueno</legend>" in html and "<legend>Aoyama</legend>" in html
    assert 'value="ueno-tobu"' in html and 'value="aoyama"' in html
    assert 'aria-live="polite"' in html
    assert 'name="action" value="count"' in html
    assert "notices/segment-preview.js" in html
    # opening the empty form reads nobody's data
    assert not AuditEvent.objects.filter(action="notices.segment_sample").exists()


def test_count_without_javascript_shows_the_count_and_an_audited_sample(
    koho: Any, residents: list[Any]
) -> None:
    response = koho.post(
        reverse("noticestaff:segment_new"),
        {"action": "count", "areas": ["ueno"], "age_min": "65", "care": "yes"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 residents agreed to receive messages." in html
    assert "4 residents match these choices in all." in html
    assert "A sample of 3 residents" in html
    assert "@example.jp" not in html  # masked: no address
    event = AuditEvent.objects.get(action="notices.segment_sample")
    assert event.details["filters"] == {"areas": ["ueno"], "age_min": 65, "care": True}
    assert sorted(event.details["users"]) == sorted(u.pk for u in residents[:3])


def test_error_summary_on_bad_input(koho: Any, residents: list[Any]) -> None:
    response = koho.post(
        reverse("noticestaff:segment_new"),
        {"action": "count", "age_min": "80", "age_max": "70", "districts": ["atlantis"]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#id_age_max"' in html
    assert "The highest age must be the same as or more than the lowest age." in html
    assert 'href="#id_districts_0"' in html  # an unknown district
    assert "<title>Error:" in html
    assert not AuditEvent.objects.filter(action="notices.segment_sample").exists()


def test_live_preview_fragment(koho: Any, residents: list[Any]) -> None:
    response = koho.post(
        reverse("noticestaff:segment_preview"),
        {"districts": ["ueno-tobu"], "action": "count"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert 'data-part="count"' in html and 'data-part="sample"' in html
    assert "3 residents agreed to receive messages." in html
    assert "<html" not in html  # a fragment, not a page
    assert AuditEvent.objects.filter(action="notices.segment_sample").count() == 1
    bad = koho.post(reverse("noticestaff:segment_preview"), {"age_min": "x"})
    assert bad.status_code == 422
    assert "Correct the choices marked as wrong" in bad.content.decode()


def test_live_preview_json(koho: Any, residents: list[Any]) -> None:
    response = koho.get(
        reverse("noticestaff:segment_preview"),
        {"areas": "aoyama"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["matching"] == 1 and data["consenting"] == 1
    assert data["filters"] == {"areas": ["aoyama"]}
    assert data["description"] == ["Areas: Aoyama"]
    (row,) = data["sample"]
    assert row["district"] == "Aoyama North"
    assert "@" not in json.dumps(data)
    bad = koho.get(
        reverse("noticestaff:segment_preview"),
        {"age_min": "9", "age_max": "3"},
        HTTP_ACCEPT="application/json",
    )
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "age_max"


def test_save_edit_and_delete_through_the_pages(koho: Any, residents: list[Any]) -> None:
    response = koho.post(
        reverse("noticestaff:segment_new"),
        {
            "action": "save",
            "name": "Older carers in Ueno",
            "description": "Heat-stroke advice",
            "areas": ["ueno"],
            "age_min": "65",
            "care": "yes",
            "interests": [],
        },
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("noticestaff:segment", args=[segment.pk])
    assert segment.filters == {"areas": ["ueno"], "age_min": 65, "care": True}
    assert segment.last_count == 3
    page = koho.get(response["Location"]).content.decode()
    assert "was saved: 3 residents" in page
    assert 'value="Older carers in Ueno"' in page
    assert (
        'value="ueno" checked' in page
        or 'checked value="ueno"' in page
        or ('id="id_areas_0" checked' in page)
    )
    changed = koho.post(
        reverse("noticestaff:segment", args=[segment.pk]),
        {"action": "save", "name": "Older carers in Ueno", "age_min": "65"},
    )
    assert changed.status_code == 302
    segment.refresh_from_db()
    assert segment.filters == {"age_min": 65}
    no_name = koho.post(reverse("noticestaff:segment_new"), {"action": "save", "name": ""})
    assert no_name.status_code == 400
    assert 'href="#id_name"' in no_name.content.decode()
    deleted = koho.post(reverse("noticestaff:segment", args=[segment.pk]), {"action": "delete"})
    assert deleted.status_code == 302
    assert not Segment.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "notices.segment_created",
        "notices.segment_changed",
        "notices.segment_deleted",
    } <= actions
