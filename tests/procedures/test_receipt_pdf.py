"""The PDF copy (控え): a real PDF that pypdf opens, with extractable Japanese text."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from cityhall.procedures.models import Application
from cityhall.procedures.services import applications, receipt_pdf
from tests.conftest import make_resident
from tests.procedures.test_apply_support import (
    ANSWERS,
    forget_parsed_forms,
    make_procedure,
    use_media,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_forms() -> Iterator[None]:
    forget_parsed_forms()
    yield
    forget_parsed_forms()


@pytest.fixture
def submitted(settings: Any, tmp_path: Any) -> Application:
    use_media(settings, tmp_path)
    procedure = make_procedure(fee_yen=300)
    app = Application.objects.create(
        procedure=procedure,
        department=procedure.department,
        version=procedure.form.versions.get(),
        applicant=make_resident(),
        data=dict(ANSWERS),
        step=4,
        fee_yen=300,
    )
    return applications.submit(app, actor=app.applicant, assurance="password")


def text_of(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_the_copy_holds_the_reference_title_and_answers(submitted: Application) -> None:
    data = receipt_pdf.render(submitted)
    assert data.startswith(b"%PDF-")
    text, _pages = text_of(data)
    assert "申請内容の控え" in text
    assert submitted.reference in text
    assert "テスト手当の申請" in text
    assert "伊賀 花子 (イガ ハナコ)" in text
    assert "昭和60年4月1日" in text  # a 和暦 answer in Japanese
    assert "伊賀銀行" in text  # a choice shows its Japanese label
    assert "お子さん 1" in text and "伊賀 一郎" in text
    assert "はい" in text  # yes/no in Japanese
    assert "300円" in text
    assert "こども家庭課" in text and "0595-22-9654" in text  # the contact
    assert "1 ページ" in text
    # 受付日時 in both calendars.
    assert "令和" in text and f"{submitted.submitted_at.year}年" in text


def test_long_answers_wrap_and_pages_are_numbered(submitted: Application) -> None:
    long_notes = "伊賀市の長い備考です。" * 200 + "\n最後の行"
    data = dict(submitted.data)
    data["notes"] = long_notes
    submitted.data = data
    submitted.save()
    text, pages = text_of(receipt_pdf.render(submitted))
    assert pages >= 2
    assert "2 ページ" in text and "最後の行" in text
    assert text.count(submitted.reference) >= pages  # the reference on every page


def test_document_metadata(submitted: Application) -> None:
    reader = PdfReader(io.BytesIO(receipt_pdf.render(submitted)))
    assert submitted.reference in (reader.metadata.title or "")
