"""Files given with applications: checked by content and size, private, readable only by
the applicant and the staff of the department (staff reads are in the audit log)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from cityhall.core.models import AuditEvent
from cityhall.procedures.models import Application
from cityhall.procedures.services import attachments
from cityhall.procedures.services.attachments import AttachmentProblem
from tests.conftest import make_resident, make_staff
from tests.procedures.test_apply_support import (
    forget_parsed_forms,
    jpeg_bytes,
    make_department,
    make_procedure,
    pdf_bytes,
    png_bytes,
    upload,
    use_media,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_forms() -> Iterator[None]:
    forget_parsed_forms()
    yield
    forget_parsed_forms()


IMAGES = ("image/jpeg", "image/png")


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    return use_media(settings, tmp_path)


@pytest.fixture
def app(media: Any) -> Application:
    procedure = make_procedure()
    return Application.objects.create(
        procedure=procedure,
        department=procedure.department,
        version=procedure.form.versions.get(),
        applicant=make_resident("owner@example.jp"),
    )


def heic_bytes() -> bytes:
    # An ISO BMFF 'ftyp' box with the HEIC brand, as iPhones write them.
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (png_bytes, "image/png"),
        (jpeg_bytes, "image/jpeg"),
        (pdf_bytes, "application/pdf"),
        (heic_bytes, "image/heic"),
    ],
)
def test_known_files_are_recognised_by_their_content(
    app: Application, media: Any, make: Any, expected: str
) -> None:
    data = make()
    stored = attachments.store(app, "photo", upload("whatever.bin", data, "text/plain"), actor=None)
    assert stored.content_type == expected
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.original_name == "whatever.bin"
    path = Path(stored.file.path)
    assert path.read_bytes() == data
    assert Path(media) in path.parents  # private media, never under STATIC_ROOT


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is text",
        b"GIF89a\x01\x00\x01\x00",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"\x89PNG\r\n\x1a\n" + b"not really a png at all",
        b"\xff\xd8\xff\xe0" + b"broken jpeg",
        b"%PDF-1.4 but no end",
        b"",
    ],
)
def test_anything_else_is_refused(app: Application, data: bytes) -> None:
    with pytest.raises(AttachmentProblem) as caught:
        attachments.store(app, "photo", upload("photo.png", data), actor=None)
    assert caught.value.code in ("wrong_type", "empty")
    assert not app.attachments.exists()


def test_the_field_decides_which_types_it_takes(app: Application) -> None:
    from django.utils import translation

    # The type list is put in words when the file is refused, so refuse and read the
    # message in the same language, as a request does.
    with translation.override("ja"):
        with pytest.raises(AttachmentProblem) as caught:
            attachments.store(
                app, "photo", upload("scan.png", pdf_bytes()), actor=None, accept=IMAGES
            )
        assert caught.value.code == "wrong_type"
        assert (
            caught.value.message
            == "この種類のファイルは使えません。JPEGまたはPNGを使ってください。"
        )
    with translation.override("en"):
        with pytest.raises(AttachmentProblem) as caught:
            attachments.store(
                app, "photo", upload("scan.png", pdf_bytes()), actor=None, accept=IMAGES
            )
        assert caught.value.message == "This type of file cannot be used. Use JPEG or PNG."
        default = AttachmentProblem(
            "wrong_type", types=attachments.type_list(attachments.KNOWN_TYPES[:3])
        )
        assert default.message == "This type of file cannot be used. Use JPEG, PNG or PDF."


def test_size_limits_of_the_field_and_the_site(app: Application, settings: Any) -> None:
    big = png_bytes() + b"\x00" * (2 * 1024 * 1024)
    with pytest.raises(AttachmentProblem) as caught:
        attachments.store(app, "photo", upload("big.png", big), actor=None, max_mb=1)
    assert caught.value.code == "too_large" and caught.value.params == {"max": 1}
    from django.utils import translation

    with translation.override("en"):
        assert caught.value.message == "The file is too large (max 1 MB)."
    settings.UPLOAD_MAX_MB = 1
    with pytest.raises(AttachmentProblem):
        attachments.store(app, "photo", upload("big.png", big), actor=None, max_mb=10)
    assert attachments.limit_mb(10) == 1 and attachments.limit_mb(None) == 1


def test_the_same_file_twice_is_kept_once(app: Application) -> None:
    first = attachments.store(app, "photo", upload("a.png", png_bytes()), actor=None)
    again = attachments.store(app, "photo", upload("b.png", png_bytes()), actor=None)
    assert first.pk == again.pk and app.attachments.count() == 1


def test_names_are_for_display_only(app: Application) -> None:
    stored = attachments.store(
        app, "photo", upload("../../etc/passwd\x00.png", png_bytes()), actor=None
    )
    assert stored.original_name == "passwd.png"
    assert "passwd" not in stored.file.name and ".." not in stored.file.name


def test_owned_accepts_only_this_applications_ids(app: Application) -> None:
    mine = attachments.store(app, "photo", upload("a.png", png_bytes()), actor=None)
    other_app = Application.objects.create(
        procedure=app.procedure,
        department=app.department,
        version=app.version,
        applicant=make_resident("other.owner@example.jp"),
    )
    theirs = attachments.store(
        other_app, "photo", upload("b.png", png_bytes(color="blue")), actor=None
    )
    assert attachments.owned(app, [str(mine.pk), theirs.pk, "x", None, -1]) == [mine.pk]
    assert attachments.owned(app, [mine.pk], "photo") == [mine.pk]
    assert attachments.owned(app, [mine.pk], "other_field") == []


def test_drawn_signatures_must_be_png_data_urls(app: Application) -> None:
    import base64

    good = "data:image/png;base64," + base64.b64encode(png_bytes((60, 20))).decode()
    stored = attachments.store_signature(app, "signature", good, actor=None)
    assert stored.content_type == "image/png" and stored.field_key == "signature"
    for bad in (
        "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes()).decode(),
        "data:image/png;base64,@@@",
        "data:image/png;base64," + base64.b64encode(pdf_bytes()).decode(),
        "javascript:alert(1)",
    ):
        with pytest.raises(AttachmentProblem) as caught:
            attachments.store_signature(app, "signature", bad, actor=None)
        assert caught.value.code == "invalid_signature"


def test_who_may_open_a_file(app: Application) -> None:
    stored = attachments.store(app, "photo", upload("a.png", png_bytes()), actor=app.applicant)
    with attachments.open_for(app.applicant, stored) as handle:
        assert handle.read() == png_bytes()
    with pytest.raises(PermissionDenied):
        attachments.open_for(make_resident("stranger@example.jp"), stored)
    # Staff of another department may not; staff of the department may, and it is audited.
    make_department("zeimu", "税務課")
    outsider = make_staff("tax.clerk@city.iga.example", "clerk", "zeimu")
    with pytest.raises(PermissionDenied):
        attachments.open_for(outsider, stored)
    clerk = make_staff("kodomo.clerk@city.iga.example", "clerk", app.department.code)
    assert not AuditEvent.objects.filter(action="application.file_view").exists()
    with attachments.open_for(clerk, stored) as handle:
        assert handle.read() == png_bytes()
    event = AuditEvent.objects.get(action="application.file_view")
    assert event.details["attachment"] == stored.pk


def test_unreferenced_files_are_purged(
    app: Application, django_capture_on_commit_callbacks: Any
) -> None:
    kept = attachments.store(app, "photo", upload("a.png", png_bytes()), actor=None)
    dropped = attachments.store(app, "photo", upload("b.png", png_bytes(color="green")), actor=None)
    app.data = {"photo": [kept.pk]}
    app.status = "submitted"
    app.save()
    path = Path(dropped.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert attachments.purge_unreferenced(app) == 1
    assert list(app.attachments.values_list("pk", flat=True)) == [kept.pk]
    assert not path.exists() and Path(kept.file.path).exists()
