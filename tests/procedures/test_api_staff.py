"""The procedures API for staff and other systems: API tokens and TOTP-verified staff sessions,
department scope, cursor pages, audited reads, status changes with their rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.people.models import ApiToken, Role, StaffAssignment, User
from cityhall.people.services import api_tokens
from cityhall.procedures.models import Application, ApplicationEvent, Status
from cityhall.procedures.services import cases
from tests.conftest import login_staff
from tests.procedures.test_api_support import (
    World,
    bearer,
    build_world,
    resident_client,
    submit,
)

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def world(db: Any) -> World:
    world = build_world()
    for who, slug in ((world.resident, "dog-registration"), (world.other, "nursery-application")):
        response = submit(resident_client(who), slug)
        assert response.status_code == 201, response.content
    return world


def problem(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{type_}"
    return body


def ref(world: World, slug: str) -> str:
    return Application.objects.get(procedure__slug=slug).reference or ""


def get(path: str, token: str, **extra: Any) -> Any:
    return Client().get(path, **bearer(token), **extra)


# --- who gets in --------------------------------------------------------------------------------


def test_without_a_valid_token_or_staff_session_nothing_is_shown(world: World) -> None:
    reference = ref(world, "dog-registration")
    for path in ("/api/v1/applications", f"/api/v1/applications/{reference}"):
        problem(Client().get(path), 401, "not-authenticated")
        problem(Client().get(path, **bearer("ch_abcdefgh_" + "x" * 43)), 401, "not-authenticated")
        problem(Client().get(path, HTTP_AUTHORIZATION="Bearer nonsense"), 401, "not-authenticated")


def test_revoked_and_expired_tokens_and_inactive_accounts_are_refused(world: World) -> None:
    plaintext = world.tokens["a"]
    assert get("/api/v1/applications", plaintext).status_code == 200
    token = ApiToken.objects.get(prefix=api_tokens.parse(plaintext).prefix)  # type: ignore[union-attr]

    api_tokens.revoke(None, token)
    problem(get("/api/v1/applications", plaintext), 401, "not-authenticated")

    service = token.user
    _t, expiring = api_tokens.issue(None, service, "short", timezone.now() + dt.timedelta(hours=1))
    assert get("/api/v1/applications", expiring).status_code == 200
    ApiToken.objects.filter(name="short").update(expires_at=timezone.now() - dt.timedelta(1))
    problem(get("/api/v1/applications", expiring), 401, "not-authenticated")

    _t, fresh = api_tokens.issue(None, service, "fresh")
    User.objects.filter(pk=service.pk).update(is_active=False)
    problem(get("/api/v1/applications", fresh), 401, "not-authenticated")


def test_staff_sessions_need_totp_and_residents_are_refused(world: World) -> None:
    client = Client()
    client.force_login(world.clerk_a)  # password only, no TOTP yet
    problem(client.get("/api/v1/applications"), 401, "not-authenticated")
    login_staff(client, world.clerk_a)
    assert client.get("/api/v1/applications").status_code == 200
    problem(resident_client(world.resident).get("/api/v1/applications"), 403, "permission-denied")


def test_a_staff_session_needs_the_csrf_token_to_change_a_status_a_token_does_not(
    world: World,
) -> None:
    reference = ref(world, "dog-registration")
    session = login_staff(Client(enforce_csrf_checks=True), world.clerk_a)
    path = f"/api/v1/applications/{reference}/status"
    payload = {"status": "received"}
    problem(session.post(path, payload, content_type="application/json"), 403, "permission-denied")
    system = Client(enforce_csrf_checks=True)
    response = system.post(
        path, payload, content_type="application/json", **bearer(world.tokens["a"])
    )
    assert response.status_code == 200, response.content


# --- department scope ---------------------------------------------------------------------------


def test_a_token_sees_only_its_accounts_departments(world: World) -> None:
    token_a = world.tokens["a"]
    body = get("/api/v1/applications", token_a).json()
    assert [a["reference"] for a in body["items"]] == [ref(world, "dog-registration")]
    problem(get("/api/v1/applications?department=kodomo-mirai", token_a), 403, "permission-denied")
    other = ref(world, "nursery-application")
    problem(get(f"/api/v1/applications/{other}", token_a), 403, "permission-denied")
    problem(get(f"/api/v1/applications/{other}/events", token_a), 403, "permission-denied")
    response = Client().post(
        f"/api/v1/applications/{other}/status",
        {"status": "received"},
        content_type="application/json",
        **bearer(token_a),
    )
    problem(response, 403, "permission-denied")
    assert Application.objects.get(reference=other).status == Status.SUBMITTED
    assert not AuditEvent.objects.filter(action="application.view").exists()

    # Giving the service account a second department is how a token gets it.
    service = api_tokens.authenticate(token_a)
    assert service is not None
    StaffAssignment.objects.create(user=service, department=world.dept_b, role=Role.CLERK)
    assert get(f"/api/v1/applications/{other}", token_a).status_code == 200


def test_unknown_references_are_not_found(world: World) -> None:
    problem(get("/api/v1/applications/2026-9999999-0", world.tokens["a"]), 404, "not-found")
    problem(get("/api/v1/applications/2026-9999999-0/events", world.tokens["a"]), 404, "not-found")


# --- the list -----------------------------------------------------------------------------------


def test_the_list_pages_with_a_cursor_and_filters(world: World) -> None:
    client = resident_client(world.resident)
    for _ in range(4):
        assert submit(client, "dog-registration").status_code == 201
    token = world.tokens["a"]
    everything = Application.objects.filter(department=world.dept_a).order_by("submitted_at", "pk")
    expected = [a.reference for a in everything]
    assert len(expected) == 5

    seen: list[str] = []
    path: str | None = "/api/v1/applications?limit=2&procedure=dog-registration"
    pages = 0
    while path:
        body = get(path, token).json()
        seen += [a["reference"] for a in body["items"]]
        path = body["next"]
        if path:
            parts = urlsplit(path)
            assert parts.scheme == "http" and "limit=2" in parts.query
            assert "procedure=dog-registration" in parts.query
            path = f"{parts.path}?{parts.query}"
        pages += 1
        assert pages < 10
    assert seen == expected and pages == 3

    first = everything[0]
    cases.transition(first, Status.RECEIVED, actor=world.clerk_a)
    received = get("/api/v1/applications?status=received", token).json()["items"]
    assert [a["reference"] for a in received] == [first.reference]
    both = get("/api/v1/applications?status=received&status=submitted", token).json()
    assert len(both["items"]) == 5

    Application.objects.filter(pk=first.pk).update(updated_at=timezone.now() + dt.timedelta(days=1))
    since = (timezone.now() + dt.timedelta(hours=12)).isoformat()
    changed = get("/api/v1/applications", token, data={"updated_since": since}).json()["items"]
    assert [a["reference"] for a in changed] == [first.reference]
    later = get("/api/v1/applications", token, data={"submitted_since": since}).json()
    assert later["items"] == [] and later["next"] is None


def test_the_list_is_audited_and_shows_no_answers(world: World) -> None:
    body = get("/api/v1/applications?department=shimin-seikatsu", world.tokens["a"]).json()
    item = body["items"][0]
    assert "answers" not in item and "applicant" not in item
    assert item["department"]["code"] == "shimin-seikatsu"
    assert item["procedure"]["slug"] == "dog-registration"
    assert item["due_date"] and item["status"] == "submitted"
    event = AuditEvent.objects.get(action="application.list")
    assert event.actor_label == "rpa.a@city.iga.example"
    assert event.details["via"] == "api" and event.details["applications"] == [item["id"]]
    assert event.details["token"] == api_tokens.parse(world.tokens["a"]).prefix  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=draft", "status"),
        ("status=lost", "status"),
        ("department=atlantis", "department"),
        ("procedure=flying", "procedure"),
        ("cursor=not-a-cursor", "cursor"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("updated_since=yesterday", "updated_since"),
    ],
)
def test_bad_list_parameters_are_problems(world: World, query: str, field: str) -> None:
    body = problem(get(f"/api/v1/applications?{query}", world.tokens["a"]), 422, "validation-error")
    assert field in {e["field"] for e in body["errors"]}


# --- one application ----------------------------------------------------------------------------


def test_reading_an_application_is_audited_as_a_staff_view(world: World) -> None:
    reference = ref(world, "dog-registration")
    body = get(f"/api/v1/applications/{reference}", world.tokens["a"]).json()
    assert body["reference"] == reference
    assert body["answers"]["dog_name"] == "ポチ"
    assert body["answers"]["phone"] == "0595-22-2500"
    assert body["applicant"] == {"name": "伊賀 花子", "email": world.resident.email}
    assert body["form_version"] == 2 and body["assurance"] == "password"
    assert body["next_statuses"] == ["received", "in_review", "needs_info", "rejected"]
    event = AuditEvent.objects.get(action="application.view")
    assert event.details["via"] == "api" and event.details["reference"] == reference
    assert event.subject_id == world.resident.pk
    assert event.actor_kind == AuditEvent.ActorKind.STAFF

    # Full-width digits, as typed by a clerk, find it too.
    wide = reference.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert get(f"/api/v1/applications/{wide}", world.tokens["a"]).status_code == 200


def test_events_show_everything_staff_may_see(world: World) -> None:
    reference = ref(world, "dog-registration")
    app = Application.objects.get(reference=reference)
    cases.add_note(app, "内部メモ", actor=world.clerk_a)
    body = get(f"/api/v1/applications/{reference}/events", world.tokens["a"]).json()
    assert [e["kind"] for e in body] == ["submitted", "note"]
    assert body[1]["text"] == "内部メモ" and body[1]["visible_to_resident"] is False
    assert body[1]["actor"] == world.clerk_a.email
    assert AuditEvent.objects.filter(action="application.view").count() == 1


# --- status changes -----------------------------------------------------------------------------


def post_status(world: World, reference: str, payload: dict[str, Any], **extra: Any) -> Any:
    return Client().post(
        f"/api/v1/applications/{reference}/status",
        payload,
        content_type="application/json",
        **bearer(world.tokens["a"]),
        **extra,
    )


def test_a_system_moves_an_application_and_the_resident_is_told(
    world: World, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reference = ref(world, "dog-registration")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_status(world, reference, {"status": "received"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "received"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_status(
            world, reference, {"status": "approved", "message": "登録が完了しました。"}
        )
    assert response.json()["status"] == "approved" and response.json()["decided_at"]
    app = Application.objects.get(reference=reference)
    assert app.status == Status.APPROVED
    changes = app.events.filter(kind=ApplicationEvent.Kind.STATUS)
    assert [(e.from_status, e.to_status) for e in changes] == [
        ("submitted", "received"),
        ("received", "approved"),
    ]
    assert {e.actor.email for e in changes if e.actor} == {"rpa.a@city.iga.example"}
    assert AuditEvent.objects.filter(action="application.status").count() == 2
    assert smtp_server.last_to(world.resident.email)


def test_refused_transitions(world: World) -> None:
    reference = ref(world, "dog-registration")
    body = problem(
        post_status(world, reference, {"status": "approved"}, HTTP_ACCEPT_LANGUAGE="en"),
        409,
        "conflict",
    )
    assert reference in body["detail"]
    body = problem(post_status(world, reference, {"status": "needs_info"}), 422, "validation-error")
    assert body["errors"][0]["field"] == "message"
    body = problem(post_status(world, reference, {"status": "lost"}), 422, "validation-error")
    assert body["errors"][0]["field"] == "status"
    body = problem(post_status(world, reference, {"status": "draft"}), 422, "validation-error")
    problem(post_status(world, "2026-0000000-0", {"status": "received"}), 404, "not-found")
    assert Application.objects.get(reference=reference).status == Status.SUBMITTED
