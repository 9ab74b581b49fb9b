"""CSV export for the 基幹系 side: UTF-8 with BOM or CP932, the clerk's columns in the clerk's
order, answers from the form, '?' counted for what CP932 lacks, and every export audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.procedures.models import Application, ApplicationEvent, Status
from cityhall.procedures.services import cases
from tests.conftest import login_staff
from tests.procedures.test_board_support import (
    World,
    answers,
    build_world,
    fresh,
    make_application,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def read(export: cases.CsvExport) -> bytes:
    return b"".join(export.chunks)


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_utf8_with_bom_and_the_columns_in_the_chosen_order(world: World) -> None:
    clerk = fresh(world.clerk_a)
    app = world.apps["a1"]
    columns = ["applicant_name", "reference", "answer:dog_name", "status", "answer:name.kana"]
    with translation.override("en"):
        export = cases.export_csv([app.pk], columns=columns, encoding="utf-8-sig", actor=clerk)
        raw = read(export)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw  # CRLF, as Windows tools expect
    rows = parse(raw.decode("utf-8-sig"))
    assert rows[0] == [
        "Applicant's name",
        "Reference number",
        "犬の名前",
        "Status",
        "氏名（フリガナ）",
    ]
    assert rows[1] == ["伊賀 花子", app.reference, "ポチ", "Submitted", "イガ ハナコ"]
    assert export.rows == 1 and export.replaced_cells == 0
    assert export.content_type == "text/csv; charset=utf-8"


def test_cp932_keeps_japanese_and_counts_what_it_cannot_hold(world: World) -> None:
    clerk = fresh(world.clerk_a)
    # 〜 (WAVE DASH) has a CP932 twin (～); 𠮷 (the "tsuchi-yoshi") has none: '?'.
    odd = make_application(
        world.dog,
        world.resident,
        name="𠮷田 花子",
        data=answers(dog_name="𠮷ポチ", notes="よろしく〜"),
    )
    columns = ["reference", "applicant_name", "answer:dog_name", "answer:notes", "procedure"]
    ids = [world.apps["a1"].pk, odd.pk]
    assert cases.count_unencodable(ids, columns=columns, actor=clerk) == 2
    export = cases.export_csv(ids, columns=columns, encoding="cp932", actor=clerk)
    raw = read(export)
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = parse(raw.decode("cp932"))
    assert rows[1][1:] == ["伊賀 花子", "ポチ", "よろしくお願いします～", "犬の登録"]
    assert rows[2][1:] == ["?田 花子", "?ポチ", "よろしく～", "犬の登録"]
    assert export.replaced_cells == 2
    assert export.content_type == "text/csv; charset=shift_jis"


def test_choices_as_codes_or_japanese_labels(world: World) -> None:
    clerk = fresh(world.clerk_a)
    ids = [world.apps["a1"].pk]
    codes = parse(
        read(
            cases.export_csv(ids, columns=["answer:breed"], encoding="utf-8-sig", actor=clerk)
        ).decode("utf-8-sig")
    )
    labels = parse(
        read(
            cases.export_csv(
                ids,
                columns=["answer:breed"],
                encoding="utf-8-sig",
                actor=clerk,
                choice_labels=True,
            )
        ).decode("utf-8-sig")
    )
    assert codes[1] == ["shiba"] and labels[1] == ["柴犬"]


def test_cells_that_look_like_formulas_are_defused(world: World) -> None:
    clerk = fresh(world.clerk_a)
    app = make_application(world.dog, world.resident, data=answers(dog_name="=HYPERLINK(1)"))
    rows = parse(
        read(
            cases.export_csv(
                [app.pk], columns=["answer:dog_name"], encoding="utf-8-sig", actor=clerk
            )
        ).decode("utf-8-sig")
    )
    assert rows[1] == ["'=HYPERLINK(1)"]


def test_export_is_audited_and_noted_in_each_history(world: World) -> None:
    clerk = fresh(world.clerk_a)
    second = make_application(world.dog, world.resident)
    qs = cases.board_queryset(clerk)
    export = cases.export_csv(qs, columns=["reference"], encoding="utf-8-sig", actor=clerk)
    assert export.rows == 2
    event = AuditEvent.objects.get(action="application.export")
    assert event.actor_id == clerk.pk
    assert event.details["rows"] == 2
    assert sorted(event.details["applications"]) == sorted([world.apps["a1"].pk, second.pk])
    assert ApplicationEvent.objects.filter(kind=ApplicationEvent.Kind.EXPORTED).count() == 2
    assert len(parse(read(export).decode("utf-8-sig"))) == 3


def test_export_refuses_other_departments_and_bad_choices(world: World) -> None:
    clerk = fresh(world.clerk_a)
    with pytest.raises(PermissionDenied):
        cases.export_csv(
            [world.apps["a1"].pk, world.apps["b1"].pk],
            columns=["reference"],
            encoding="utf-8-sig",
            actor=clerk,
        )
    # A query set is narrowed to what the clerk may see.
    export = cases.export_csv(
        Application.objects.all().order_by("pk"),
        columns=["reference"],
        encoding="utf-8-sig",
        actor=clerk,
    )
    assert export.rows == 1
    with pytest.raises(cases.CaseError):
        cases.export_csv([world.apps["a1"].pk], columns=[], encoding="utf-8-sig", actor=clerk)
    with pytest.raises(cases.CaseError):
        cases.export_csv([world.apps["a1"].pk], columns=["secret"], encoding="utf-8", actor=clerk)
    with pytest.raises(cases.CaseError):
        cases.export_csv(
            [world.apps["a1"].pk], columns=["reference"], encoding="latin-1", actor=clerk
        )


def test_the_columns_offered_include_the_forms_answers(world: World) -> None:
    keys = [key for key, _label in cases.export_columns(world.dog)]
    assert keys[:3] == ["reference", "procedure", "status"]
    assert "answer:name" in keys and "answer:name.kana" in keys and "answer:breed" in keys
    assert [k for k, _ in cases.export_columns()] == [k for k, _ in cases.STANDARD_COLUMNS]


# --- the export page ------------------------------------------------------------------------------


def _column_data(
    columns: list[tuple[str, str]], chosen: dict[str, int], **extra: str
) -> dict[str, str]:
    data = dict(extra)
    for i, (key, _label) in enumerate(columns):
        if key in chosen:
            data[f"c{i}"] = "on"
            data[f"o{i}"] = str(chosen[key])
    return data


def test_the_export_page_writes_the_columns_in_the_order_given(world: World, client: Any) -> None:
    login_staff(client, world.clerk_a)
    url = reverse("procstaff:board_export") + f"?procedure={world.dog.pk}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "犬の名前" in html and 'type="number"' in html
    columns = cases.export_columns(world.dog)
    data = _column_data(
        columns,
        {"answer:dog_name": 1, "reference": 3, "applicant_name": 2},
        encoding="utf-8-sig",
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="applications-')
    body = b"".join(response.streaming_content)
    rows = parse(body.decode("utf-8-sig"))
    assert rows[0] == ["犬の名前", "申請者氏名", "受付番号"]
    assert rows[1] == ["ポチ", "伊賀 花子", world.apps["a1"].reference]
    assert AuditEvent.objects.filter(action="application.export").count() == 1


def test_the_export_page_warns_before_cp932_loses_characters(world: World, client: Any) -> None:
    make_application(world.dog, world.resident, name="𠮷田 太郎")
    login_staff(client, world.clerk_a)
    url = reverse("procstaff:board_export")
    columns = cases.export_columns()
    data = _column_data(columns, {"reference": 1, "applicant_name": 2}, encoding="cp932")
    warned = client.post(url, data)
    assert warned.status_code == 200
    assert "表せない文字は「?」になります" in warned.content.decode()
    assert 'name="confirm" value="True"' in warned.content.decode()
    assert not AuditEvent.objects.filter(action="application.export").exists()
    response = client.post(url, {**data, "confirm": "True"})
    body = b"".join(response.streaming_content).decode("cp932")
    assert "?田 太郎" in body and "伊賀 花子" in body


def test_the_export_page_needs_a_column(world: World, client: Any) -> None:
    login_staff(client, world.clerk_a)
    response = client.post(reverse("procstaff:board_export"), {"encoding": "utf-8-sig"})
    assert response.status_code == 422
    assert "error-summary" in response.content.decode()


def test_the_export_follows_the_boards_filters(world: World, client: Any) -> None:
    make_application(world.dog, world.resident, status=Status.APPROVED, name="承認 済子")
    login_staff(client, world.clerk_a)
    columns = cases.export_columns()
    data = _column_data(columns, {"applicant_name": 1}, encoding="utf-8-sig")
    url = reverse("procstaff:board_export") + "?status=approved"
    body = b"".join(client.post(url, data).streaming_content).decode("utf-8-sig")
    assert parse(body)[1:] == [["承認 済子"]]
