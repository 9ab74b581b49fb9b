"""The write-free counter: find or create the resident, open a life event's bundle
(prefilled), fill in, show on the second screen, confirm and sign, submit once with the
counter time; the KPI; permissions and the audit log. Real database, real PDF."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cityhall.core.models import AuditEvent
from cityhall.people.models import Department, User
from cityhall.procedures.models import (
    Application,
    ApplicationEvent,
    Attachment,
    CounterSession,
    Procedure,
    Status,
)
from cityhall.procedures.services import applications, builder, counter
from cityhall.procedures.services.counter import CounterError
from tests.conftest import login_staff, make_resident, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_spec_cache() -> Any:
    """Parsed versions are cached by id; ids come back after each test's rollback."""
    applications._parsed.cache_clear()
    yield
    applications._parsed.cache_clear()


MOVING_IN = {
    "title": {"ja": "転入届", "en": "Moving in"},
    "steps": [
        {
            "key": "person",
            "title": {"ja": "届け出る人", "en": "The person"},
            "fields": [
                {
                    "key": "name",
                    "type": "name",
                    "label": {"ja": "氏名", "en": "Name"},
                    "prefill": ["identity.name", "profile.name"],
                },
                {
                    "key": "address",
                    "type": "address",
                    "label": {"ja": "新しい住所", "en": "New address"},
                    "prefill": ["profile.address"],
                },
                {
                    "key": "phone",
                    "type": "phone",
                    "label": {"ja": "電話番号", "en": "Phone"},
                    "prefill": ["profile.phone"],
                    "required": False,
                },
                {
                    "key": "id_checked",
                    "type": "consent",
                    "label": {"ja": "本人確認書類を確認した", "en": "Identity document checked"},
                    "counter_only": True,
                },
            ],
        },
        {
            "key": "sign",
            "title": {"ja": "署名", "en": "Signature"},
            "fields": [{"key": "signature", "type": "signature", "label": {"ja": "署名"}}],
        },
    ],
}
WATER = {
    "title": {"ja": "水道の使用開始", "en": "Water supply"},
    "steps": [
        {
            "key": "start",
            "title": {"ja": "使用開始", "en": "Start"},
            "fields": [
                {
                    "key": "name",
                    "type": "name",
                    "label": {"ja": "氏名"},
                    "prefill": ["profile.name"],
                    "required": False,
                },
                {
                    "key": "start_date",
                    "type": "date",
                    "label": {"ja": "開始日", "en": "Start date"},
                },
            ],
        }
    ],
}


def publish(procedure: Procedure, document: dict[str, Any], actor: Any) -> None:
    builder.import_json(
        actor, procedure, builder.stamp_of(builder.definition_of(procedure)), json.dumps(document)
    )
    builder.publish(actor, procedure, builder.stamp_of(builder.definition_of(procedure)))


def png_data_url() -> str:
    from PIL import Image

    image = Image.new("RGB", (40, 20), "white")
    for x in range(5, 35):
        image.putpixel((x, 10), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    admin = make_staff("admin@city.iga.example", "admin", "joho")
    clerk = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    water_dept, _ = Department.objects.get_or_create(
        code="jougesuido", defaults={"name": "上下水道課"}
    )
    moving = Procedure.objects.create(
        slug="moving-in",
        department=Department.objects.get(code="shimin-seikatsu"),
        category="residence",
        life_events=["moving", "from-abroad"],
        texts={"title": {"ja": "転入届", "en": "Moving in"}},
        order=1,
    )
    water = Procedure.objects.create(
        slug="water-start",
        department=water_dept,
        category="housing",
        life_events=["moving"],
        texts={"title": {"ja": "水道の使用開始", "en": "Water supply"}},
        order=2,
    )
    unrelated = Procedure.objects.create(
        slug="dog",
        department=water_dept,
        category="animals",
        texts={"title": {"ja": "犬の登録"}},
    )
    publish(moving, MOVING_IN, admin)
    publish(water, WATER, admin)
    publish(unrelated, WATER, admin)
    resident = make_resident(
        "hanako@example.jp",
        phone="0595-22-0000",
        address="伊賀市上野丸之内1",
        postal_code="518-0873",
    )
    resident.display_name = "伊賀 花子"
    resident.save()
    return {
        "admin": admin,
        "clerk": clerk,
        "moving": moving,
        "water": water,
        "dog": unrelated,
        "resident": resident,
        "water_dept": water_dept,
    }


@pytest.fixture
def staff_client(client: Any, world: dict[str, Any]) -> Any:
    client.cookies["cityhall_lang"] = "en"
    return login_staff(client, world["clerk"])


def url(name: str, *args: Any) -> str:
    return reverse(f"procstaff:{name}", args=args)


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


# --- the service ---------------------------------------------------------------------------


def test_a_life_event_bundle_opens_one_prefilled_draft_per_procedure(world: dict[str, Any]) -> None:
    assert [p.slug for p in counter.bundle("moving")] == ["moving-in", "water-start"]
    assert ("moving", counter.life_events()[0][1]) in counter.life_events() or counter.life_events()
    session = counter.start_session(
        world["clerk"], world["resident"], counter.bundle("moving"), life_event="moving"
    )
    apps = counter.applications_of(session)
    assert [a.procedure.slug for a in apps] == ["moving-in", "water-start"]
    for app in apps:
        assert app.via == Application.Via.COUNTER
        assert app.counter_session == session and app.status == Status.DRAFT
        assert app.data["name"]["family"] == "伊賀" and app.data["name"]["given"] == "花子"
    assert apps[0].data["address"] == "伊賀市上野丸之内1"
    assert apps[0].data["phone"] == "0595-22-0000"
    # The application belongs to the procedure's department, not the clerk's.
    assert apps[1].department == world["water_dept"]
    assert "counter.start" in actions() and actions().count("application.start") == 2
    with pytest.raises(CounterError):
        counter.start_session(world["clerk"], world["resident"], [])
    with pytest.raises(CounterError):
        counter.start_session(world["clerk"], world["admin"], [world["moving"]])


def fill_moving(session: CounterSession, app: Application, clerk: User) -> Application:
    spec = applications.spec_of(app.version_id)
    assert [s.key for s in counter.clerk_steps(spec)] == ["person"]
    values = dict(applications.answers(app))
    values["name"] = dict(values["name"], family_kana="イガ", given_kana="ハナコ")
    values["id_checked"] = True
    return counter.save_step(clerk, session, app, "person", values)


def test_show_confirm_and_submit_with_the_counter_time(world: dict[str, Any]) -> None:
    clerk = world["clerk"]
    session = counter.start_session(clerk, world["resident"], [world["moving"]])
    app = counter.applications_of(session)[0]
    with pytest.raises(CounterError):
        counter.show(clerk, session, app)  # readings of the name missing
    app = fill_moving(session, app, clerk)
    assert counter.open_problems(app) == []
    assert [e.path for e in applications.problems(app)] == ["signature"]
    session = counter.show(clerk, session, app)
    assert session.showing == app
    with pytest.raises(CounterError, match="住民がまだ画面でこの申請を確認していません"):
        counter.submit(clerk, session, app)
    assert Application.objects.get(pk=app.pk).status == Status.DRAFT

    app = counter.confirm(clerk, session, app, typed_name=" 伊賀　花子 ", drawn=png_data_url())
    assert app.resident_confirmed_at is not None
    attachment = Attachment.objects.get(application=app)
    assert attachment.field_key == "signature" and attachment.content_type == "image/png"
    assert app.data["signature"] == {"typed": "伊賀 花子", "attachment": attachment.pk}
    event = ApplicationEvent.objects.get(application=app, kind=ApplicationEvent.Kind.CONFIRMED)
    assert event.actor == world["resident"] and "伊賀 花子" in event.text
    assert CounterSession.objects.get(pk=session.pk).showing is None

    Application.objects.filter(pk=app.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=7)
    )
    app.refresh_from_db()
    done = counter.submit(clerk, session, app)
    assert done.status == Status.SUBMITTED and done.via == "counter"
    assert done.assurance == "counter"
    assert 7 * 60 <= done.counter_seconds < 7 * 60 + 60
    assert done.data["signature"]["typed"] == "伊賀 花子"
    # Pressed twice: the one submission stands.
    again = counter.submit(clerk, session, Application.objects.get(pk=app.pk))
    assert again.reference == done.reference
    assert actions().count("application.submit") == 1
    for action in ("counter.show", "application.confirm", "counter.step"):
        assert action in actions()


def test_a_form_without_a_signature_keeps_the_drawing_as_an_attachment(
    world: dict[str, Any],
) -> None:
    clerk = world["clerk"]
    session = counter.start_session(clerk, world["resident"], [world["water"]])
    app = counter.applications_of(session)[0]
    app = counter.save_step(clerk, session, app, "start", {"start_date": "2026-04-01"})
    assert counter.open_problems(app) == []
    counter.show(clerk, session, app)
    app = counter.confirm(clerk, session, app, typed_name="伊賀 花子", drawn=png_data_url())
    attachment = Attachment.objects.get(application=app)
    assert attachment.field_key == counter.SIGNATURE_FIELD_KEY
    assert "signature" not in app.data
    with pytest.raises(CounterError):  # not showing any more
        counter.confirm(clerk, session, app, typed_name="x")
    # A change after the confirmation needs a new one.
    counter.save_step(clerk, session, app, "start", {"start_date": "2026-04-02"})
    app.refresh_from_db()
    assert app.resident_confirmed_at is None
    with pytest.raises(CounterError):
        counter.submit(clerk, session, app)


def test_a_bad_drawing_is_refused_and_nothing_is_confirmed(world: dict[str, Any]) -> None:
    clerk = world["clerk"]
    session = counter.start_session(clerk, world["resident"], [world["water"]])
    app = counter.applications_of(session)[0]
    app = counter.save_step(clerk, session, app, "start", {"start_date": "2026-04-01"})
    counter.show(clerk, session, app)
    bad = "data:image/png;base64," + base64.b64encode(b"not a png at all").decode()
    with pytest.raises(CounterError):
        counter.confirm(clerk, session, app, typed_name="伊賀 花子", drawn=bad)
    app.refresh_from_db()
    assert app.resident_confirmed_at is None
    assert not Attachment.objects.filter(application=app).exists()
    assert not ApplicationEvent.objects.filter(application=app, kind="confirmed").exists()


def test_kpi_figures_from_known_data(world: dict[str, Any]) -> None:
    now = timezone.now()
    version = applications.published_version(world["water"])
    for seconds in (600, 60, 240, 120, 180):
        Application.objects.create(
            procedure=world["water"],
            department=world["water_dept"],
            version=version,
            applicant=world["resident"],
            via="counter",
            status=Status.SUBMITTED,
            submitted_at=now,
            counter_seconds=seconds,
        )
    for _ in range(3):
        Application.objects.create(
            procedure=world["water"],
            department=world["water_dept"],
            version=version,
            applicant=world["resident"],
            status=Status.RECEIVED,
            submitted_at=now,
        )
    # Outside the period, and drafts: not counted.
    Application.objects.create(
        procedure=world["water"],
        department=world["water_dept"],
        version=version,
        applicant=world["resident"],
        via="counter",
        status=Status.SUBMITTED,
        submitted_at=now - dt.timedelta(days=400),
        counter_seconds=5,
    )
    Application.objects.create(
        procedure=world["water"],
        department=world["water_dept"],
        version=version,
        applicant=world["resident"],
        via="counter",
    )
    today = timezone.localdate()
    report = counter.kpi(world["clerk"], today - dt.timedelta(days=1), today)
    (row,) = report.rows
    assert row.procedure == world["water"]
    assert (row.counter, row.online) == (5, 3)
    assert row.median == 180 and row.p90 == 600
    assert row.counter_share == 62.5
    assert report.total.counter == 5
    assert counter.percentile(list(range(1, 11)), 0.9) == 9
    assert counter.percentile([], 0.9) is None

    csv_text = "".join(counter.kpi_csv(world["clerk"], report))
    assert csv_text.startswith("\ufeff")
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("procedure,title,department,counter_submissions")
    assert lines[1] == "water-start,水道の使用開始,上下水道課,5,180,600,3,62.5"
    assert "counter.kpi_export" in actions()


# --- the pages -----------------------------------------------------------------------------


def test_find_the_resident_then_open_a_bundle(staff_client: Any, world: dict[str, Any]) -> None:
    page = staff_client.get(url("counter") + "?q=hanako")
    assert page.status_code == 200 and "伊賀 花子" in page.content.decode()
    search = AuditEvent.objects.get(action="staff.resident_search")
    assert search.details == {"query": "hanako"}
    assert staff_client.get(url("counter") + "?q=h").status_code == 422

    resident = world["resident"]
    page = staff_client.get(url("counter_start", resident.pk))
    assert page.status_code == 200
    view = AuditEvent.objects.get(action="staff.resident_view")
    assert view.subject_id == resident.pk and view.details == {"page": "counter"}
    page = staff_client.get(url("counter_start", resident.pk) + "?event=moving")
    body = page.content.decode()
    assert 'value="moving-in"' in body and 'value="water-start"' in body
    assert 'value="dog"' not in body
    response = staff_client.post(
        url("counter_start", resident.pk),
        {"mode": "bundle", "event": "moving", "procedures": ["moving-in", "water-start"]},
    )
    assert response.status_code == 302
    session = CounterSession.objects.get()
    assert response["Location"] == url("counter_session", session.pk)
    assert session.life_event == "moving" and session.clerk == world["clerk"]
    assert session.applications.count() == 2
    page = staff_client.get(response["Location"])
    assert page.status_code == 200 and url("counter_display", session.pk) in page.content.decode()
    # Nothing ticked: explained, nothing opened.
    response = staff_client.post(
        url("counter_start", resident.pk), {"mode": "bundle", "event": "moving"}
    )
    assert response.status_code == 422
    assert CounterSession.objects.count() == 1


def test_create_a_resident_at_the_counter(staff_client: Any, world: dict[str, Any]) -> None:
    response = staff_client.post(url("counter_resident_new"), {"display_name": " "})
    assert response.status_code == 422
    response = staff_client.post(
        url("counter_resident_new"),
        {
            "display_name": "名張 次郎",
            "phone": "０５９５－２２－１１１１",
            "postal_code": "5180873",
            "address": "伊賀市上野",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(display_name="名張 次郎")
    assert created.email.endswith(".invalid") and not created.is_staff
    assert created.profile.phone == "0595-22-1111" and created.profile.postal_code == "518-0873"
    assert response["Location"] == url("counter_start", created.pk)
    assert "staff.resident_create" in actions()
    # One procedure for them, prefilled with the new profile.
    response = staff_client.post(
        url("counter_start", created.pk), {"mode": "one", "procedure": world["moving"].pk}
    )
    assert response.status_code == 302
    app = Application.objects.get(applicant=created)
    assert app.data["name"]["family"] == "名張" and app.data["address"] == "伊賀市上野"


def test_the_whole_counter_flow_through_the_pages(staff_client: Any, world: dict[str, Any]) -> None:
    clerk, resident = world["clerk"], world["resident"]
    session = counter.start_session(clerk, resident, [world["moving"]])
    app = counter.applications_of(session)[0]
    response = staff_client.get(url("counter_app", session.pk, app.pk))
    step_url = url("counter_step", session.pk, app.pk, "person")
    assert response["Location"] == step_url
    page = staff_client.get(step_url)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'value="伊賀"' in body and "伊賀市上野丸之内1" in body  # prefilled
    assert "Identity document checked" in body  # counter-only question
    # The signature is the resident's, on the second screen: no clerk's step for it.
    assert staff_client.get(url("counter_step", session.pk, app.pk, "sign")).status_code == 404
    # Missing readings: explained, 422.
    response = staff_client.post(
        step_url, {"name-family": "伊賀", "name-given": "花子", "address": "伊賀市上野丸之内1"}
    )
    assert response.status_code == 422
    response = staff_client.post(
        step_url,
        {
            "name-family": "伊賀",
            "name-given": "花子",
            "name-family_kana": "いが",
            "name-given_kana": "はなこ",
            "address": "伊賀市上野丸之内1",
            "phone": "0595-22-0000",
            "id_checked": "on",
        },
    )
    review_url = url("counter_review", session.pk, app.pk)
    assert response.status_code == 302 and response["Location"] == review_url
    app.refresh_from_db()
    assert app.data["name"]["family_kana"] == "イガ" and app.data["id_checked"] is True

    page = staff_client.get(review_url)
    assert "Show to the resident" in page.content.decode()
    views = AuditEvent.objects.filter(action="counter.view", target_id=str(app.pk))
    assert {e.details["page"] for e in views} == {"step:person", "review"}
    assert all(e.subject_id == resident.pk for e in views)
    # The second screen waits (and refreshes itself) while nothing is shown.
    display_url = url("counter_display", session.pk)
    waiting = staff_client.get(display_url).content.decode()
    assert 'class="counter-display display-large"' in waiting
    assert '<meta http-equiv="refresh" content="3">' in waiting
    assert staff_client.get(url("counter_display_state", session.pk)).json() == {
        "showing": None,
        "ended": False,
    }

    response = staff_client.post(review_url, {"action": "show"})
    assert response.status_code == 302
    assert staff_client.get(url("counter_display_state", session.pk)).json()["showing"] == app.pk
    response = staff_client.post(url("counter_submit", session.pk, app.pk))
    assert response.status_code == 409
    assert "has not confirmed" in response.content.decode()

    shown = staff_client.get(display_url + "?lang=ja").content.decode()
    assert "http-equiv" not in shown  # never refresh while something is shown
    assert "display-large" in shown and "伊賀市上野丸之内1" in shown
    assert "内容を確認しました" in shown and 'lang="ja"' in shown
    response = staff_client.post(
        display_url, {"application": app.pk, "signature": "伊賀 花子", "lang": "en"}
    )
    assert response.status_code == 422  # the box is not ticked
    assert "Tick the box" in response.content.decode()
    response = staff_client.post(
        display_url,
        {
            "application": app.pk,
            "checked": "on",
            "signature": "伊賀 花子",
            "signature_drawn": png_data_url(),
            "lang": "en",
        },
    )
    assert response.status_code == 302
    thanks = staff_client.get(response["Location"]).content.decode()
    assert "Thank you" in thanks and 'http-equiv="refresh"' in thanks

    page = staff_client.get(review_url).content.decode()
    assert "The resident confirmed and signed" in page
    response = staff_client.post(url("counter_submit", session.pk, app.pk))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and app.counter_seconds is not None
    page = staff_client.get(review_url).content.decode()
    assert app.reference in page

    pdf = staff_client.get(url("counter_print", session.pk, app.pk))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert app.reference in text
    assert "counter.print" in actions()

    response = staff_client.post(url("counter_end", session.pk))
    assert response.status_code == 302
    assert CounterSession.objects.get(pk=session.pk).ended_at is not None
    ended = staff_client.get(display_url).content.decode()
    assert "has ended" in ended and "http-equiv" not in ended


def test_kpi_page_and_csv(staff_client: Any, world: dict[str, Any]) -> None:
    page = staff_client.get(url("counter_kpi"))
    assert page.status_code == 200 and "All procedures" in page.content.decode()
    assert (
        staff_client.get(url("counter_kpi") + "?start=2026-05-01&end=2026-04-01").status_code == 422
    )
    csv_response = staff_client.get(url("counter_kpi_csv") + "?start=2026-04-01&end=2026-04-30")
    assert (
        csv_response["Content-Disposition"]
        == 'attachment; filename="counter-kpi-20260401-20260430.csv"'
    )
    content = b"".join(csv_response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeffprocedure,")


def test_who_may_use_the_counter(client: Any, world: dict[str, Any]) -> None:
    session = counter.start_session(world["clerk"], world["resident"], [world["moving"]])
    other = make_staff("other@city.iga.example", "clerk", "jougesuido")
    login_staff(client, other)
    assert client.get(url("counter")).status_code == 200
    assert client.get(url("counter_session", session.pk)).status_code == 403
    assert client.get(url("counter_display", session.pk)).status_code == 403
    auditor = make_staff("auditor@city.iga.example", "auditor")
    client.logout()
    login_staff(client, auditor)
    assert client.get(url("counter")).status_code == 403
    assert client.get(url("counter_kpi")).status_code == 403
    client.logout()
    login_staff(client, world["admin"])
    assert client.get(url("counter_session", session.pk)).status_code == 200
    client.logout()
    client.force_login(world["resident"])
    response = client.get(url("counter"))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_the_residents_screen_speaks_their_language(
    staff_client: Any, world: dict[str, Any]
) -> None:
    resident = world["resident"]
    resident.profile.preferred_language = "pt-br"
    resident.profile.save()
    session = counter.start_session(world["clerk"], resident, [world["water"]])
    app = counter.applications_of(session)[0]
    app = counter.save_step(world["clerk"], session, app, "start", {"start_date": "2026-04-01"})
    counter.show(world["clerk"], session, app)
    page = staff_client.get(url("counter_display", session.pk)).content.decode()
    assert '<html lang="pt-BR"' in page
    assert 'value="pt-br" lang="pt-BR" selected' in page
    page = staff_client.get(url("counter_display", session.pk) + "?lang=ja").content.decode()
    assert '<html lang="ja"' in page and "水道の使用開始" in page
