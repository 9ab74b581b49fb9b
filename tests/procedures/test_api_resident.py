"""The procedures API for everyone and for residents: the catalogue, published forms, and
submitting an application exactly once (Idempotency-Key), with every answer checked."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.procedures.models import (
    Application,
    ApplicationEvent,
    Channel,
    Procedure,
    Status,
)
from cityhall.procedures.services import cases
from tests.conftest import login_staff
from tests.procedures.test_api_support import (
    World,
    answers,
    build_world,
    new_key,
    resident_client,
    submit,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def problem(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{type_}" and body["status"] == status
    return body


# --- the catalogue and the forms (public) ---------------------------------------------------


@pytest.mark.django_db
def test_catalogue_lists_active_procedures_in_the_request_language(
    client: Client, world: World
) -> None:
    Procedure.objects.create(
        slug="retired",
        department=world.dept_a,
        category="animals",
        texts={"title": {"ja": "廃止"}},
        is_active=False,
    )
    body = client.get("/api/v1/procedures", HTTP_ACCEPT_LANGUAGE="en").json()
    by_slug = {p["slug"]: p for p in body}
    assert set(by_slug) == {"dog-registration", "nursery-application"}
    dog = by_slug["dog-registration"]
    assert dog["title"] == "Dog registration" and dog["summary"] == "Register a new dog."
    assert dog["department"] == {"code": "shimin-seikatsu", "name": "Citizens' Life Division"}
    assert dog["online"] is True and dog["fee_yen"] == 3000 and dog["channel"] == "both"
    assert dog["category"] == "animals" and dog["category_label"] == "Pets and animals"
    assert dog["life_events"] == ["moving-in"] and dog["requires_identity"] is False

    ja = {p["slug"]: p for p in client.get("/api/v1/procedures", HTTP_ACCEPT_LANGUAGE="ja").json()}
    assert ja["dog-registration"]["title"] == "犬の登録"
    assert ja["dog-registration"]["department"]["name"] == "市民生活課"


@pytest.mark.django_db
def test_catalogue_filters(client: Client, world: World) -> None:
    def slugs(query: str) -> list[str]:
        return [p["slug"] for p in client.get(f"/api/v1/procedures?{query}").json()]

    assert slugs("category=childcare") == ["nursery-application"]
    assert slugs("life_event=moving-in") == ["dog-registration"]
    assert slugs("q=%E7%8A%AC") == ["dog-registration"]  # 犬
    assert slugs("q=nursery") == ["nursery-application"]
    assert slugs("life_event=nothing-like-this") == []
    problem(client.get("/api/v1/procedures?category=spaceships"), 422, "validation-error")


@pytest.mark.django_db
def test_procedure_and_its_forms(client: Client, world: World) -> None:
    body = client.get("/api/v1/procedures/dog-registration", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["form_version"] == 2 and body["bring"] == "Fee 3,000 yen"
    assert body["sla_days"] == 14

    form = client.get("/api/v1/procedures/dog-registration/form").json()
    assert form["version"] == 2 and form["procedure"] == "dog-registration"
    assert [s["key"] for s in form["spec"]["steps"]] == ["owner", "dog", "confirm"]
    first = client.get("/api/v1/procedures/dog-registration/form/versions/1").json()
    assert first["version"] == 1 and len(first["spec"]["steps"]) == 1

    problem(client.get("/api/v1/procedures/dog-registration/form/versions/9"), 404, "not-found")
    problem(client.get("/api/v1/procedures/no-such-thing"), 404, "not-found")
    problem(client.get("/api/v1/procedures/no-such-thing/form"), 404, "not-found")
    without_form = Procedure.objects.create(
        slug="counter-only", department=world.dept_a, category="tax", channel=Channel.COUNTER
    )
    assert client.get(f"/api/v1/procedures/{without_form.slug}").json()["form_version"] is None
    problem(client.get(f"/api/v1/procedures/{without_form.slug}/form"), 404, "not-found")


# --- submitting -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submit_creates_one_application_and_the_same_key_returns_it(world: World) -> None:
    client = resident_client(world.resident)
    key = new_key()
    first = submit(client, "dog-registration", key=key)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == Status.SUBMITTED and body["reference"]
    assert body["form_version"] == 2
    assert body["procedure"]["slug"] == "dog-registration"
    # Answers are normalised; what was left out came from the profile (prefill).
    assert body["answers"]["name"]["family_kana"] == "イガ"
    assert body["answers"]["born"] == "2023-04-01"
    assert body["answers"]["phone"] == "0595-22-2500"
    assert body["answers"]["postal_code"] == "518-8501"
    assert body["answers"]["email"] == world.resident.email
    assert [e["kind"] for e in body["events"]] == ["submitted"]

    again = submit(client, "dog-registration", key=key)
    assert again.status_code == 200
    assert again.json() == body
    assert Application.objects.filter(applicant=world.resident).count() == 1
    app = Application.objects.get()
    assert app.idempotency_key == key and app.via == Application.Via.ONLINE
    assert app.prefill_sources == ["profile.email", "profile.phone", "profile.postal_code"]
    actions = list(
        AuditEvent.objects.filter(target_id=str(app.pk)).values_list("action", flat=True)
    )
    assert actions.count("application.submit") == 1


@pytest.mark.django_db
def test_the_same_key_with_other_answers_is_a_conflict(world: World) -> None:
    client = resident_client(world.resident)
    key = new_key()
    assert submit(client, "dog-registration", key=key).status_code == 201
    body = problem(
        submit(client, "dog-registration", answers(dog_name="タマ"), key=key),
        409,
        "conflict",
    )
    assert "Idempotency-Key" in body["detail"]
    # Leaving out an answer that was sent the first time is a different request too.
    problem(
        submit(client, "dog-registration", answers(vaccinations=None), key=key), 409, "conflict"
    )
    # The same key on another procedure, or from another resident, is refused as well.
    problem(submit(client, "nursery-application", key=key), 409, "conflict")
    problem(submit(resident_client(world.other), "dog-registration", key=key), 409, "conflict")
    assert Application.objects.count() == 1
    assert Application.objects.get().data["dog_name"] == "ポチ"


@pytest.mark.django_db
def test_equivalent_input_is_the_same_request(world: World) -> None:
    """A retry may spell answers differently (full-width digits, hiragana): they are compared
    as the form stores them."""
    client = resident_client(world.resident)
    key = new_key()
    assert submit(client, "dog-registration", key=key).status_code == 201
    same = answers(
        born="2023-04-01",
        name={"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "はなこ"},
    )
    assert submit(client, "dog-registration", same, key=key).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_answer_problem_is_listed_in_the_request_language(
    world: World, language: str
) -> None:
    client = resident_client(world.resident)
    bad = {
        "name": {"family": "伊賀", "given": "花子", "family_kana": "Iga", "given_kana": "ハナコ"},
        "phone": "12345",
        "breed": "other",  # then breed_other is required
        "born": "2099-01-01",  # after today
        "vaccinations": [{"date": "2024-02-30", "clinic": "病院"}, {"clinic": ""}, {"date": "x"}],
        "unknown_question": "?",
    }
    response = submit(client, "dog-registration", bad, HTTP_ACCEPT_LANGUAGE=language)
    body = problem(response, 422, "validation-error")
    codes = {e["field"]: e["code"] for e in body["errors"]}
    assert codes == {
        "unknown_question": "unknown_field",
        "name": "kana_only",
        "phone": "invalid_phone",
        "breed_other": "required",
        "dog_name": "required",
        "born": "date_too_late",
        "vaccinations.0.date": "invalid_date",
        "vaccinations.2.date": "invalid_date",
        "vaccinations.2.clinic": "required",
        "agree": "must_consent",
    }
    details = {e["field"]: e["detail"] for e in body["errors"]}
    if language == "ja":
        assert body["title"] == "入力内容に誤りがあります。"
        assert details["dog_name"] == "この項目は入力が必要です。"
    else:
        assert body["title"] == "The request has mistakes."
        assert details["dog_name"] == "This field is required."
        assert details["agree"] == "Tick the box to agree."
    assert all(e["detail"] for e in body["errors"])
    assert not Application.objects.exists()  # nothing kept, not even a draft


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 65, "ключ"])
def test_the_idempotency_key_is_required_and_checked(world: World, key: str) -> None:
    response = submit(resident_client(world.resident), "dog-registration", key=key)
    body = problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_who_may_submit(client: Client, world: World) -> None:
    problem(submit(client, "dog-registration"), 401, "not-authenticated")
    login_staff(client, world.clerk_a)
    problem(submit(client, "dog-registration"), 403, "permission-denied")
    problem(submit(resident_client(world.resident), "no-such-thing"), 404, "not-found")
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_a_procedure_that_cannot_be_done_online_is_a_conflict(world: World) -> None:
    Procedure.objects.filter(pk=world.dog.pk).update(channel=Channel.COUNTER)
    client = resident_client(world.resident)
    body = problem(submit(client, "dog-registration", HTTP_ACCEPT_LANGUAGE="en"), 409, "conflict")
    assert body["detail"] == "This procedure is done at the counter."
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_identity_is_required_before_submitting_when_the_procedure_says_so(
    world: World,
) -> None:
    Procedure.objects.filter(pk=world.dog.pk).update(requires_identity=True)
    client = resident_client(world.resident)
    body = problem(submit(client, "dog-registration"), 403, "identity-required")
    assert body["detail"]
    assert client.get(body["type"]).status_code == 200  # the type explains itself
    assert not Application.objects.exists()

    session = client.session
    session.update(
        {
            "assurance": "card",
            "assurance_user": world.resident.pk,
            "assurance_at": timezone.now().isoformat(),
        }
    )
    session.save()
    response = submit(client, "dog-registration")
    assert response.status_code == 201, response.content
    assert Application.objects.get().assurance == "card"


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(world: World) -> None:
    client = resident_client(world.resident, enforce_csrf_checks=True)
    problem(submit(client, "dog-registration"), 403, "permission-denied")
    assert not Application.objects.exists()
    client.get("/api/v1/procedures")  # any page sets no cookie; ask Django for a token instead
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = submit(client, "dog-registration", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_submissions_are_rate_limited_per_resident(world: World, settings: Any) -> None:
    settings.APPLICATION_SUBMIT_RATE = "2/h"
    client = resident_client(world.resident)
    keys = [new_key() for _ in range(3)]
    assert submit(client, "dog-registration", key=keys[0]).status_code == 201
    assert submit(client, "nursery-application", key=keys[1]).status_code == 201
    refused = submit(client, "dog-registration", key=keys[2])
    problem(refused, 429, "rate-limited")
    assert int(refused["Retry-After"]) > 0
    # A retry of a request that went through is not a new submission.
    assert submit(client, "dog-registration", key=keys[0]).status_code == 200
    # Another resident has their own allowance.
    assert submit(resident_client(world.other), "dog-registration").status_code == 201
    assert Application.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_application() -> None:
    world = build_world()
    key = new_key()
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict[str, Any]]] = []
    errors: list[BaseException] = []
    clients = [resident_client(world.resident) for _ in range(2)]  # two browsers, one resident

    def post(client: Client) -> None:
        try:
            barrier.wait(timeout=30)
            response = submit(client, "dog-registration", key=key)
            results.append((response.status_code, response.json()))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(status for status, _ in results) == [200, 201], results
    assert results[0][1]["id"] == results[1][1]["id"]
    assert Application.objects.filter(idempotency_key=key).count() == 1
    assert Application.objects.filter(applicant=world.resident).count() == 1


@pytest.mark.django_db
def test_a_draft_submitted_meanwhile_is_never_written_over(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two submissions that picked the same open draft: the second stops (409) and the
    first one's answers stay as they were sent."""
    from cityhall.procedures.services import applications

    client = resident_client(world.resident)
    stale = applications.start(world.dog, world.resident, assurance="password")
    other = Application.objects.get(pk=stale.pk)  # the other request, which wins
    applications.save_step(
        other,
        "owner",
        {"name": answers()["name"], "phone": "0595-00-0000", "postal_code": "518-8501"},
    )
    applications.save_step(
        other, "dog", {"breed": "shiba", "dog_name": "ハチ", "born": "2023-04-01"}
    )
    applications.save_step(other, "confirm", {"agree": True})
    applications.submit(other, actor=world.resident, assurance="password", idempotency_key="first")
    # This request found the draft before the other one submitted it.
    monkeypatch.setattr(applications, "start", lambda *args, **kwargs: stale)
    body = problem(submit(client, "dog-registration"), 409, "conflict")
    assert body["detail"]
    app = Application.objects.get()
    assert app.idempotency_key == "first" and app.status == Status.SUBMITTED
    assert app.data["dog_name"] == "ハチ" and app.data["phone"] == "0595-00-0000"


# --- my applications --------------------------------------------------------------------------


@pytest.mark.django_db
def test_residents_see_only_their_own_applications(world: World) -> None:
    mine = submit(resident_client(world.resident), "dog-registration").json()
    theirs = submit(resident_client(world.other), "dog-registration").json()
    client = resident_client(world.resident)
    listed = client.get("/api/v1/me/applications").json()
    assert [a["id"] for a in listed] == [mine["id"]]
    assert listed[0]["reference"] == mine["reference"]
    problem(client.get(f"/api/v1/me/applications/{theirs['id']}"), 404, "not-found")
    problem(client.get("/api/v1/me/applications/999999"), 404, "not-found")
    problem(Client().get("/api/v1/me/applications"), 401, "not-authenticated")


@pytest.mark.django_db
def test_my_application_shows_the_history_meant_for_me(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = resident_client(world.resident)
    created = submit(client, "dog-registration").json()
    app = Application.objects.get(pk=created["id"])
    clerk = world.clerk_a
    with django_capture_on_commit_callbacks(execute=False):
        cases.transition(app, Status.NEEDS_INFO, actor=clerk, message="写真を送ってください。")
        cases.add_note(app, "内部メモ: 電話済み", actor=clerk)
    body = client.get(f"/api/v1/me/applications/{app.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["status"] == Status.NEEDS_INFO
    assert body["status_label"] == "More information needed"
    kinds = [e["kind"] for e in body["events"]]
    assert ApplicationEvent.Kind.NOTE not in kinds
    assert kinds[0] == "submitted" and ApplicationEvent.Kind.STATUS in kinds
    texts = " ".join(e["text"] for e in body["events"])
    assert "写真を送ってください。" in texts and "内部メモ" not in texts
    assert body["answers"]["dog_name"] == "ポチ"
