"""The core systems' charges file: validated whole, applied once, idempotent by hash,
in UTF-8 (with or without BOM) or CP932, with no query per row."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.payments.models import Charge, ImportedFile, Installment, PayerAccount, PaymentNotice
from cityhall.payments.services import charge_import
from tests.conftest import login_staff, make_resident, make_staff
from tests.payments.test_charges_support import (
    HEADER,
    csv_file,
    csv_row,
    juminzei_rows,
    many_rows,
    seed_kinds,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def central() -> Any:
    seed_kinds()
    return make_staff("shuno@city.iga.example", "clerk", "shuno")


def test_a_valid_file_is_applied_with_slips_and_links(central: Any) -> None:
    hanako = make_resident("hanako@example.jp")
    PayerAccount.objects.create(payer_key="000000000777", user=hanako)
    data = csv_file(
        [
            *juminzei_rows("100001", "000000000777"),
            *juminzei_rows("100002", "000000000778", "上野 一郎"),
            csv_row(
                "keijidoshazei",
                "300001",
                "000000000778",
                "上野 一郎",
                "ｳｴﾉ ｲﾁﾛｳ",
                1,
                10800,
                "2026-05-31",
            ),
        ]
    )
    record = charge_import.import_charges(data, filename="juminzei-2026.csv", actor=central)
    assert record.status == ImportedFile.Status.APPLIED
    assert record.rows == 9
    assert record.summary["charges"] == 3
    assert record.summary["installments"] == 9
    assert record.summary["notices"] == 9
    assert record.summary["linked"] == 1
    assert record.summary["total_yen"] == 8 * 12_300 + 10_800
    assert record.uploaded_by_id == central.pk
    first = Charge.objects.get(reference="100001")
    assert first.resident_id == hanako.pk
    assert first.imported_file_id == record.pk
    assert first.total_yen == 4 * 12_300
    assert first.payer_postal_code == "518-0873"
    assert first.payer_address == "三重県伊賀市上野丸之内116（架空）"
    kei = Charge.objects.get(reference="300001")
    assert kei.payer_kana == "ウエノ イチロウ"  # half-width kana folded
    assert kei.resident_id is None
    assert str(kei.installment_set.get().due_date) == "2026-05-31"
    assert PaymentNotice.objects.filter(status="active").count() == 9
    event = AuditEvent.objects.get(action="payments.charges_imported")
    assert event.details["charges"] == 3 and event.target_id == str(record.pk)


def test_the_same_bytes_again_change_nothing(central: Any) -> None:
    data = csv_file(juminzei_rows())
    first = charge_import.run_import(data, filename="a.csv", actor=central)
    assert first.applied and not first.duplicate
    again = charge_import.run_import(data, filename="renamed.csv", actor=central)
    assert again.duplicate and again.file.pk == first.file.pk
    assert ImportedFile.objects.count() == 1
    assert Charge.objects.count() == 1 and Installment.objects.count() == 4
    assert AuditEvent.objects.filter(action="payments.charges_imported").count() == 1


def test_a_file_sending_the_same_charges_again_leaves_them_unchanged(central: Any) -> None:
    charge_import.import_charges(csv_file(juminzei_rows("100001")), filename="a.csv")
    second = charge_import.import_charges(
        csv_file([*juminzei_rows("100001"), *juminzei_rows("100002", "000000000778")]),
        filename="b.csv",
    )
    assert second.status == "applied"
    assert second.summary["unchanged"] == 1 and second.summary["charges"] == 1
    assert Charge.objects.count() == 2


def test_one_bad_row_rejects_the_whole_file_with_its_line(central: Any) -> None:
    rows = juminzei_rows("100001")
    rows[2] = csv_row(reference="100001", period=3, amount='"12,300"', due="20261031")
    data = csv_file([*rows, *juminzei_rows("100002", "000000000778")])
    record = charge_import.import_charges(data, filename="bad.csv", actor=central)
    assert record.status == ImportedFile.Status.REJECTED
    assert Charge.objects.count() == 0 and PaymentNotice.objects.count() == 0
    assert len(record.problems) == 1
    problem = record.problems[0]
    assert problem["line"] == 4  # header is line 1, the third row is line 4
    assert problem["column"] == "amount" and "金額" in problem["field"]
    assert "digits only" in problem["detail"]
    assert AuditEvent.objects.filter(action="payments.charges_rejected").count() == 1
    # A rejected file is no barrier: the same bytes are checked again (and rejected again),
    # and the corrected file is applied.
    again = charge_import.import_charges(data, filename="bad.csv", actor=central)
    assert again.pk != record.pk and again.status == "rejected"
    good = charge_import.import_charges(
        csv_file([*juminzei_rows("100001"), *juminzei_rows("100002", "000000000778")]),
        filename="good.csv",
    )
    assert good.status == "applied" and Charge.objects.count() == 2


def test_every_problem_is_collected(central: Any) -> None:
    data = csv_file(
        [
            csv_row("no-such-kind", "100001"),
            csv_row(reference="ABC", period=0),
            csv_row(reference="100003", due="2026/06/30", fiscal_year=2026, tax_year=2027),
            csv_row(reference="100004", name="", postal_code="51808"),
            csv_row(reference="100005", period=1),
            csv_row(reference="100005", period=1, payer_key="000000000001"),
            "kojin-juminzei,2026,2026,100006",
        ]
    )
    record = charge_import.import_charges(data, filename="bad.csv")
    found = {(p["line"], p["column"]) for p in record.problems}
    assert (2, "kind") in found
    assert (3, "reference") in found and (3, "period") in found
    assert (4, "tax_year") in found and (4, "due_date") in found
    assert (5, "name") in found and (5, "postal_code") in found
    assert (7, "payer_key") in found and (7, "period") in found  # disagrees, period twice
    assert (8, "file") in found  # too few columns
    assert record.summary["problems"] == len(record.problems)


def test_a_changed_existing_charge_is_an_error(central: Any) -> None:
    charge_import.import_charges(csv_file(juminzei_rows("100001")), filename="a.csv")
    rows = juminzei_rows("100001")
    rows[3] = csv_row(reference="100001", period=4, amount=9_999, due="20270131")
    record = charge_import.import_charges(csv_file(rows), filename="b.csv")
    assert record.status == "rejected"
    assert record.problems[0]["line"] == 2
    assert "never changes a charge" in record.problems[0]["detail"]
    assert Installment.objects.get(period=4).amount_yen == 12_300


def test_header_problems_are_reported(central: Any) -> None:
    data = csv_file([csv_row()], header=HEADER.replace("金額", "金額x").replace(",住所", ""))
    record = charge_import.import_charges(data, filename="h.csv")
    details = " ".join(p["detail"] for p in record.problems)
    assert "金額x" in details and "“金額” is missing" in details
    assert all(p["line"] == 1 for p in record.problems)


@pytest.mark.parametrize(
    ("encoding", "prefix"), [("cp932", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")]
)
def test_encodings_are_detected(central: Any, encoding: str, prefix: bytes) -> None:
    rows = [csv_row(name="髙橋 﨑子", kana="ﾀｶﾊｼ ｻｷｺ", address="三重県伊賀市上野丸之内（架空）")]
    if encoding == "cp932":
        rows = [csv_row(name="高橋 崎子", kana="ﾀｶﾊｼ ｻｷｺ", address="三重県伊賀市（架空）")]
    data = prefix + csv_file(rows, encoding=encoding)
    record = charge_import.import_charges(data, filename="x.csv")
    assert record.status == "applied", record.problems
    charge = Charge.objects.get()
    assert charge.payer_kana == "タカハシ サキコ"
    assert charge.payer_name in ("髙橋 﨑子", "高橋 崎子")
    expected = {"cp932": "cp932", "utf-8": "utf-8-sig" if prefix else "utf-8"}[encoding]
    assert record.summary["encoding"] == expected


def test_binary_and_empty_files_are_rejected(central: Any) -> None:
    assert charge_import.import_charges(b"", filename="e.csv").status == "rejected"
    binary = charge_import.import_charges(b"PK\x03\x04\x00\x00", filename="x.zip")
    assert "not a text" in binary.problems[0]["detail"]
    header_only = charge_import.import_charges(csv_file([]), filename="h.csv")
    assert "no rows" in header_only.problems[0]["detail"]


def test_5000_rows_import_with_a_bounded_number_of_queries(central: Any) -> None:
    data = csv_file(many_rows(1250))
    with CaptureQueriesContext(connection) as queries:
        record = charge_import.import_charges(data, filename="big.csv")
    assert record.status == "applied", record.problems[:3]
    assert record.summary["charges"] == 1250 and record.summary["installments"] == 5000
    assert PaymentNotice.objects.count() == 5000
    # Fixed work per batch, none per row: SQLite's 999 parameters per statement make
    # the batches small (about 60 charges), PostgreSQL's are larger.
    assert len(queries) < 5000 / 25, len(queries)
    assert Charge.objects.filter(payer_kana="シケン タロウ").count() == 1250


# --- the page and the command --------------------------------------------------------------


def test_the_imports_page_applies_a_file_and_shows_the_result(client: Any, central: Any) -> None:
    login_staff(client, central)
    upload = SimpleUploadedFile("juminzei.csv", csv_file(juminzei_rows()), "text/csv")
    response = client.post(reverse("paystaff:imports"), {"file": upload})
    assert response.status_code == 302
    record = ImportedFile.objects.get()
    assert f"file={record.pk}" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "juminzei.csv" in page and "notification--success" in page
    upload = SimpleUploadedFile("again.csv", csv_file(juminzei_rows()), "text/csv")
    response = client.post(reverse("paystaff:imports"), {"file": upload})
    assert "duplicate=1" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "notification--warning" in page


def test_the_imports_page_lists_the_problems_of_a_rejected_file(client: Any, central: Any) -> None:
    login_staff(client, central)
    client.cookies["cityhall_lang"] = "en"
    rows = juminzei_rows()
    rows[1] = csv_row(period=2, due="20260231")
    upload = SimpleUploadedFile("bad.csv", csv_file(rows), "text/csv")
    response = client.post(reverse("paystaff:imports"), {"file": upload})
    page = client.get(response["Location"]).content.decode()
    assert 'id="error-summary"' in page
    assert "Line 3" in page and "YYYYMMDD" in page
    response = client.post(reverse("paystaff:imports"), {})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.content.decode()


def test_the_command_imports_and_reports_problems(central: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file(juminzei_rows()))
    out = StringIO()
    call_command("import_charges", str(good), stdout=out)
    assert "1 new charges" in out.getvalue()
    out = StringIO()
    call_command("import_charges", str(good), stdout=out)
    assert "imported before" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([csv_row(amount="-5")]))
    err = StringIO()
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_charges", str(bad), stderr=err)
    assert "line 2" in err.getvalue()
