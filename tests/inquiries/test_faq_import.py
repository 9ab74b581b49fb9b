"""FAQ CSV import: encodings, whole-file validation, idempotence, translations, commands."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.inquiries.models import FaqCategory, FaqEntry, FaqImport, FaqText
from cityhall.inquiries.services import faq
from tests.inquiries.faq_support import HEADER, ROWS, csv_text, default_csv, department


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English (the suite's default language is Japanese)."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _department(db: Any) -> Any:
    return department()


def _counts() -> tuple[int, int]:
    return FaqEntry.objects.count(), FaqText.objects.count()


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: s.encode("utf-8-sig"),
        lambda s: s.encode("cp932"),
        lambda s: s.replace("\n", "\r\n").encode("cp932"),
    ],
    ids=["utf8", "utf8-bom", "cp932", "cp932-crlf"],
)
def test_import_reads_every_supported_encoding(encode: Any) -> None:
    report = faq.import_csv(encode(default_csv()), "faq.csv")
    assert (report.rows, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    entry = FaqEntry.objects.get(key="gomi-001")
    assert entry.category == FaqCategory.GARBAGE
    assert entry.department is not None and entry.department.code == "shimin-seikatsu"
    assert entry.url == "https://www.city.iga.lg.jp/gomi"
    assert entry.review_on == dt.date(2030, 4, 1)
    assert entry.published is True
    ja = FaqText.objects.get(entry=entry, language="ja")
    assert ja.question == "粗大ごみはどうやって出しますか"
    assert ja.keywords == "大型ごみ"
    assert FaqText.objects.get(entry=entry, language="en").answer == "Call the bulky waste centre."
    other = FaqEntry.objects.get(key="juminhyo-001")
    assert other.procedures == ["juminhyo", "inkan"]
    assert other.category == FaqCategory.RESIDENCY
    record = FaqImport.objects.get()
    assert record.sha256 == report.sha256 and record.created == 3
    event = AuditEvent.objects.get(action="inquiries.faq.imported")
    assert event.details["created"] == 3


def test_other_encodings_are_refused_with_a_clear_message() -> None:
    with pytest.raises(faq.FaqImportError) as caught:
        faq.import_csv(default_csv().encode("utf-16"), "faq.csv")
    assert "UTF-8" in str(caught.value)
    # Bytes that are neither UTF-8 nor CP932 (0x85 0x40 is no CP932 character).
    with pytest.raises(faq.FaqImportError) as caught:
        faq.import_csv(HEADER.encode() + b"\nx,\x85\x40,\xeb\x40\n", "faq.csv")
    assert "CP932" in str(caught.value)
    assert _counts() == (0, 0)


def test_missing_required_column_is_reported_on_row_1() -> None:
    with pytest.raises(faq.FaqImportError) as caught:
        faq.import_csv(b"id,question\nx,y\n", "faq.csv")
    assert [(e.row, "answer" in e.message) for e in caught.value.errors] == [(1, True)]
    assert _counts() == (0, 0)


def test_every_bad_row_is_reported_and_nothing_is_applied() -> None:
    rows = [
        ROWS[0],  # row 2: good
        ",質問,回答,,,,,,,",  # row 3: no id
        "a-1,,回答,,,,,,,",  # row 4: no question
        "a-2,質問," + ",".join([""] * 8),  # row 5: no answer
        "a-3,質問,回答,宇宙,,,,,,",  # row 6: unknown category
        "a-4,質問,回答,,,,nowhere,,,",  # row 7: unknown department
        "a-5,質問,回答,,,not a url,,,,",  # row 8: bad URL
        "a-6,質問,回答,,,,,,,2030-13-01",  # row 9: bad date
        "a-7," + "長" * 501 + ",回答,,,,,,,",  # row 10: question too long
        "gomi-001,重複,回答,,ja,,,,,",  # row 11: duplicate (id, language)
        "nobody,Question,Answer,,en,,,,,",  # row 12: translation without Japanese
        "a-8,質問,回答,,klingon,,,,,",  # row 13: unknown language
        "a/9,質問,回答,,,,,,,",  # row 14: bad id
    ]
    with pytest.raises(faq.FaqImportError) as caught:
        faq.import_csv(csv_text(*rows).encode(), "bad.csv")
    reported = {e.row for e in caught.value.errors}
    assert reported == set(range(3, 15))
    messages = " ".join(str(e) for e in caught.value.errors)
    assert "Row 11" in messages and "row 2" in messages  # the duplicate names the first row
    assert _counts() == (0, 0)
    assert not FaqImport.objects.exists()


def test_errors_are_reported_in_the_users_language() -> None:
    with translation.override("ja"), pytest.raises(faq.FaqImportError) as ja_error:
        faq.import_csv(b"id,question\nx,y\n", "faq.csv")
    with translation.override("en"), pytest.raises(faq.FaqImportError) as en_error:
        faq.import_csv(b"id,question\nx,y\n", "faq.csv")
    assert "Required columns are missing" in str(en_error.value)
    assert str(ja_error.value)  # rendered in Japanese once the catalogue has it


def test_the_same_file_twice_is_a_no_op() -> None:
    data = default_csv().encode()
    faq.import_csv(data, "faq.csv")
    before = list(FaqText.objects.values_list("pk", "updated_at").order_by("pk"))
    again = faq.import_csv(data, "faq-copy.csv")
    assert again.already_imported_at is not None
    assert not again.applied
    assert "already imported" in again.summary()
    assert list(FaqText.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert FaqImport.objects.count() == 1
    assert AuditEvent.objects.filter(action="inquiries.faq.imported").count() == 1


def test_a_changed_file_applies_only_the_changes() -> None:
    faq.import_csv(default_csv().encode(), "faq.csv")
    changed = [
        ROWS[0],
        'gomi-001,How do I put out large waste?,"Call the bulky waste centre.",,pt_BR,,,,,',
        ROWS[2].replace("窓口かコンビニで", "窓口で"),
        "gomi-002,びんはいつ出せますか,資源ごみの日です。,garbage,,,,,,",
    ]
    report = faq.import_csv(csv_text(*changed).encode(), "faq-v2.csv")
    # gomi-001 ja unchanged; pt-br created; juminhyo changed; gomi-002 created.
    assert (report.created, report.updated, report.unchanged) == (2, 1, 1)
    assert FaqText.objects.get(entry__key="gomi-001", language="pt-br").question.startswith(
        "How do I put out large"
    )
    assert "窓口で取れます" in FaqText.objects.get(entry__key="juminhyo-001", language="ja").answer
    # The English row is not in the new file: it stays (an import never deletes).
    assert FaqText.objects.filter(entry__key="gomi-001", language="en").exists()
    assert FaqImport.objects.count() == 2


def test_translation_rows_for_entries_already_in_the_database() -> None:
    faq.import_csv(default_csv().encode(), "faq.csv")
    data = csv_text(
        "juminhyo-001,Onde posso obter o atestado de residência?,Na prefeitura.,,pt-br,,,,,",
        "juminhyo-001,在哪里可以取得住民票?,在市政府。,,zh_Hans,,,,,",
        "juminhyo-001,Tôi lấy phiếu cư trú ở đâu?,Tại tòa thị chính.,,vi,,,,,",
    ).encode()
    report = faq.import_csv(data, "translations.csv")
    assert report.created == 3
    entry = FaqEntry.objects.get(key="juminhyo-001")
    assert {t.language for t in entry.texts.all()} == {"ja", "pt-br", "zh-hans", "vi"}
    # A translation row leaves the entry's own settings alone.
    assert entry.procedures == ["juminhyo", "inkan"]
    assert faq.text_for(entry, "es") is not None
    assert faq.text_for(entry, "es").language == "ja"  # type: ignore[union-attr]
    assert faq.text_for(entry, "vi").language == "vi"  # type: ignore[union-attr]


def test_columns_left_out_keep_what_is_there() -> None:
    faq.import_csv(default_csv().encode(), "faq.csv")
    report = faq.import_csv(
        b"id,question,answer\ngomi-001,\xe7\xb2\x97\xe5\xa4\xa7\xe3\x81\x94\xe3\x81\xbf?,A\n",
        "short.csv",
    )
    assert report.updated == 1
    entry = FaqEntry.objects.get(key="gomi-001")
    assert entry.category == FaqCategory.GARBAGE and entry.url
    assert FaqText.objects.get(entry=entry, language="ja").keywords == "大型ごみ"


def test_service_functions_and_feedback() -> None:
    entry = faq.create_entry(
        key="tax-001", question="税の証明は?", answer="税務課へ。", category="tax"
    )
    faq.save_text(entry, "en", "Tax certificate?", "Go to the Taxation Division.")
    assert faq.text_for(entry, "en").question == "Tax certificate?"  # type: ignore[union-attr]
    assert faq.delete_text(entry, "en") is True
    with pytest.raises(faq.FaqError):
        faq.delete_text(entry, "ja")
    faq.unpublish(entry)
    entry.refresh_from_db()
    assert entry.published is False
    assert faq.record_feedback("tax-001", True) is False  # unpublished: not counted
    faq.publish(entry)
    assert faq.record_feedback("tax-001", True) is True
    assert faq.record_feedback("tax-001", False) is True
    assert faq.record_feedback("nope", True) is False
    entry.refresh_from_db()
    assert (entry.helpful_count, entry.unhelpful_count) == (1, 1)
    entry.review_on = dt.date(2020, 1, 1)
    entry.save()
    assert list(faq.due_for_review(dt.date(2020, 1, 1))) == [entry]
    assert list(faq.due_for_review(dt.date(2019, 12, 31))) == []
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "inquiries.faq.created",
        "inquiries.faq.text_saved",
        "inquiries.faq.text_deleted",
        "inquiries.faq.unpublished",
        "inquiries.faq.published",
    } <= actions


def test_import_command_exit_codes_and_output(tmp_path: Path) -> None:
    good = tmp_path / "faq.csv"
    good.write_bytes(default_csv().encode("cp932"))
    out = StringIO()
    call_command("import_faq", str(good), stdout=out)
    assert "3 created" in out.getvalue()
    out = StringIO()
    call_command("import_faq", str(good), stdout=out)
    assert "already imported" in out.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text("x,,a,,,,,,,", "y,q,,,,,,,,"), encoding="utf-8")
    err = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import_faq", str(bad), stdout=StringIO(), stderr=err)
    assert exited.value.code == 1
    assert "Row 2" in err.getvalue() and "Row 3" in err.getvalue()
    assert not FaqEntry.objects.filter(key__in=["x", "y"]).exists()


def test_import_command_through_the_cityhall_cli(tmp_path: Path, capsys: Any) -> None:
    """``cityhall import-faq`` (with a hyphen) reaches the command."""
    from cityhall.cli import main

    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,question\n")
    with pytest.raises(SystemExit) as exited:
        main(["import-faq", str(path)])
    assert exited.value.code == 1
    assert "answer" in capsys.readouterr().err


def test_seed_faq_imports_the_shipped_files_idempotently(monkeypatch: Any, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(default_csv().encode())
    (tmp_path / "b.csv").write_bytes(
        csv_text("gomi-001,Como jogar lixo grande?,Ligue para o centro.,,pt-br,,,,,").encode()
    )
    monkeypatch.setattr(faq, "DATA_DIR", tmp_path)
    reports = faq.seed_faq()
    assert [r.created for r in reports] == [3, 1]
    out = StringIO()
    call_command("seed_faq", stdout=out)
    assert "2 files already imported, nothing changed" in out.getvalue()
    assert FaqText.objects.count() == 4


def test_shipped_faq_files_are_valid() -> None:
    """Whatever the repository ships in inquiries/data/faq/ imports without an error."""
    from cityhall.people.seed import load_departments

    files = sorted(faq.DATA_DIR.glob("*.csv"))
    if not files:
        pytest.skip("no FAQ files shipped yet")
    load_departments()
    reports = faq.seed_faq()
    assert len(reports) == len(files)
    assert all(r.rows > 0 for r in reports)
    assert faq.seed_faq()[0].already_imported_at is not None


def test_japanese_column_names_are_understood() -> None:
    data = "番号,質問,回答\nq-1,ごみの日はいつですか,地区ごとに決まっています。\n".encode("cp932")
    report = faq.import_csv(data, "faq.csv")
    assert report.created == 1
    assert FaqText.objects.get(entry__key="q-1", language="ja").question == "ごみの日はいつですか"
