"""The JSON API: problem+json errors, the resident's own profile, the committed OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cityhall.portal.management.commands.export_openapi import openapi_json

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_is_committed_and_current() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_json(), "docs/openapi.json drifted: run `make openapi`"
    schema = json.loads(committed)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/health" in schema["paths"]
    assert "/api/v1/me" in schema["paths"]


def test_health(client: Any) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert client.get("/healthz").json()["status"] == "ok"


def test_unknown_api_path_is_problem_json(client: Any) -> None:
    response = client.get("/api/v1/does-not-exist", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/not-found" and body["status"] == 404
    assert client.get(body["type"]).status_code == 200  # the type resolves to a page


def test_problem_title_is_in_the_request_language(client: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    assert client.get("/api/v1/me").json()["title"] == "You need to log in."
    client.cookies["cityhall_lang"] = "ja"
    assert client.get("/api/v1/me").json()["title"] != "You need to log in."


def test_me_requires_a_resident(client: Any, clerk_client: Any) -> None:
    assert client.get("/api/v1/me").status_code in {401, 403}
    response = clerk_client.get("/api/v1/me")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_me_shows_and_patches_own_profile(
    resident_client: Any, resident: Any, geography: Any
) -> None:
    body = resident_client.get("/api/v1/me").json()
    assert body["email"] == resident.email and body["assurance"] == "email"
    response = resident_client.patch(
        "/api/v1/me",
        {
            "district": "ueno-tobu",
            "birth_year": 1980,
            "children_birth_years": [2019],
            "phone": "0595-22-2500",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["district"] == "ueno-tobu" and body["phone"] == "0595-22-2500"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"birth_year": "nineteen"}, "birth_year"),
        ({"birth_year": 1800}, "birth_year"),
        ({"district": "atlantis"}, "district"),
        ({"postal_code": "12-34"}, "postal_code"),
        ({"preferred_language": "xx"}, "preferred_language"),
        ({"interests": ["cats"]}, "interests"),
    ],
)
def test_patch_rejects_bad_input_as_problem_and_saves_nothing(
    resident_client: Any, resident: Any, geography: Any, payload: dict, field: str
) -> None:
    response = resident_client.patch(
        "/api/v1/me", {"display_name": "changed", **payload}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    assert field in {e["field"] for e in body["errors"]}
    resident.refresh_from_db()
    assert resident.display_name == ""


def test_malformed_json_is_a_problem(resident_client: Any) -> None:
    response = resident_client.patch("/api/v1/me", "{not json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert response["Content-Type"] == "application/problem+json"


def test_consents_api(resident_client: Any) -> None:
    response = resident_client.put(
        "/api/v1/me/consents", {"granted": ["notify"]}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["notify"] is True
    response = resident_client.put(
        "/api/v1/me/consents", {"granted": ["bogus"]}, content_type="application/json"
    )
    assert response.status_code == 422


def test_api_csrf_for_session_writes(resident: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = client.patch("/api/v1/me", {"display_name": "x"}, content_type="application/json")
    assert response.status_code in {401, 403}
    assert response["Content-Type"] == "application/problem+json"


def test_districts_are_public(client: Any, geography: Any) -> None:
    codes = {d["code"] for d in client.get("/api/v1/districts").json()}
    assert {"ueno-tobu", "aoyama-hokubu"} <= codes


def test_api_is_rate_limited(client: Any, settings: Any) -> None:
    from cityhall.api import api

    throttle = api.throttle[0]  # type: ignore[index]
    original = throttle.rate, throttle.num_requests, throttle.duration
    throttle.rate, throttle.num_requests, throttle.duration = "3/m", 3, 60
    try:
        responses = [client.get("/api/v1/languages") for _ in range(4)]
    finally:
        throttle.rate, throttle.num_requests, throttle.duration = original
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1]["Content-Type"] == "application/problem+json"
    assert int(responses[-1]["Retry-After"]) > 0
