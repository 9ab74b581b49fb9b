"""Print runs: numbering, parts on disk, resuming after a crash without duplicating or
skipping a slip (read back from the PDFs), and the staff pages with their permissions."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from cityhall.core.models import AuditEvent
from cityhall.payments.models import Installment, PaymentNotice, PrintRun, PrintRunPart
from cityhall.payments.services import printing
from cityhall.payments.slips import pdf as slips_pdf
from tests.conftest import login_staff, make_resident, make_staff
from tests.payments.factories import make_charge, make_kind

pytestmark = pytest.mark.django_db

PARAMS = {"kind": "kojin-juminzei", "fiscal_year": 2026}


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PAYMENT_PRINT_PART_SIZE = 3
    return tmp_path


@pytest.fixture
def shuno(db: Any) -> Any:
    return make_staff("shuno@city.iga.example", "clerk", "shuno")


def _notices(count: int) -> list[PaymentNotice]:
    kind = make_kind()
    for i in range(count):
        # postal codes in reverse so the print order differs from the id order
        charge = make_charge(kind=kind, amounts=(1_000 + i,), payer_key=f"{i:012d}")
        type(charge).objects.filter(pk=charge.pk).update(payer_postal_code=f"518-{9000 - i:04d}")
    return list(PaymentNotice.objects.order_by("id"))


def _numbers_per_page(path: Path, candidates: set[str]) -> list[str]:
    """The notice number printed on each page (exactly one of ``candidates`` per page)."""
    found = []
    for page in PdfReader(path).pages:
        digits = re.sub(r"\D", "", page.extract_text())
        hits = {n for n in candidates if n in digits}
        assert len(hits) == 1, f"{path.name}: page shows {hits}"
        found.append(hits.pop())
    return found


def _printed_numbers(run: PrintRun, candidates: set[str]) -> list[str]:
    numbers: list[str] = []
    for part in run.parts.order_by("number"):
        path = printing.part_file(part)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == part.sha256
        pages = _numbers_per_page(path, candidates)
        assert len(pages) == part.pages == part.last_seq - part.first_seq + 1
        numbers += pages
    return numbers


def _expected_order(run: PrintRun) -> list[str]:
    return list(
        PaymentNotice.objects.filter(print_run=run)
        .order_by("print_seq")
        .values_list("notice_number", flat=True)
    )


def _create(shuno: Any, capture: Any, **params: Any) -> PrintRun:
    with capture(execute=True):
        created = printing.create_run(title="June", params=params or PARAMS, actor=shuno)
    created.refresh_from_db()
    return created


def test_full_run_prints_every_slip_once_in_postal_order(
    media: Path, shuno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    made = _notices(7)
    run = _create(shuno, django_capture_on_commit_callbacks)
    assert run.status == PrintRun.Status.DONE
    assert (run.total, run.printed, run.part_size) == (7, 7, 3)
    assert run.started_at and run.finished_at
    seqs = list(
        PaymentNotice.objects.filter(print_run=run)
        .order_by("print_seq")
        .values_list("print_seq", "installment__charge__payer_postal_code")
    )
    assert [s for s, _ in seqs] == list(range(1, 8))
    assert [p for _, p in seqs] == sorted(p for _, p in seqs)
    parts = list(run.parts.order_by("number"))
    assert [(p.number, p.first_seq, p.last_seq, p.pages) for p in parts] == [
        (1, 1, 3, 3),
        (2, 4, 6, 3),
        (3, 7, 7, 1),
    ]
    assert parts[0].path == f"print-runs/{run.pk}/part-0001.pdf"
    assert (media / "print-runs" / str(run.pk) / "part-0003.pdf").is_file()
    numbers = {n.notice_number for n in made}
    printed = _printed_numbers(run, numbers)
    assert printed == _expected_order(run)
    assert sorted(printed) == sorted(numbers)
    assert not list((media / "print-runs" / str(run.pk)).glob("*.tmp"))
    assert AuditEvent.objects.filter(action="payments.print_run_created").count() == 1
    # running a finished run again changes nothing
    assert printing.run(run.pk).status == PrintRun.Status.DONE
    assert PrintRunPart.objects.filter(run=run).count() == 3


def _crash_on_call(monkeypatch: Any, call: int, exc: BaseException) -> list[int]:
    real = slips_pdf.render
    calls: list[int] = []

    def render(slips: Any, out: Any) -> int:
        calls.append(1)
        if len(calls) == call:
            iterator = iter(slips)
            next(iterator)  # half-way through the part
            out.write(b"%PDF-1.4 half a part")
            raise exc
        return real(slips, out)

    monkeypatch.setattr(slips_pdf, "render", render)
    return calls


class Killed(BaseException):
    """Not an Exception: nothing in the run catches it, like a SIGKILL."""


@pytest.mark.parametrize(
    ("exc", "status_after_crash"),
    [
        (RuntimeError("printer driver exploded"), PrintRun.Status.FAILED),
        (Killed(), PrintRun.Status.RUNNING),
    ],
)
def test_resume_after_a_crash_on_part_two(
    media: Path,
    shuno: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
    exc: BaseException,
    status_after_crash: str,
) -> None:
    made = _notices(8)
    _crash_on_call(monkeypatch, 2, exc)
    try:
        run = _create(shuno, django_capture_on_commit_callbacks)
    except Killed:
        run = PrintRun.objects.get()
    run.refresh_from_db()
    assert run.status == status_after_crash
    if status_after_crash == PrintRun.Status.FAILED:
        assert "printer driver exploded" in run.error
    assert list(run.parts.values_list("number", flat=True)) == [1]
    assert run.printed == 3
    folder = media / "print-runs" / str(run.pk)
    assert sorted(p.name for p in folder.iterdir()) == ["part-0001.pdf"]  # no half file
    first = folder / "part-0001.pdf"
    before = first.stat()
    digest = hashlib.sha256(first.read_bytes()).hexdigest()

    monkeypatch.setattr(slips_pdf, "render", _real_render)
    resumed = printing.run(run.pk)
    assert resumed.status == PrintRun.Status.DONE and resumed.error == ""
    assert (resumed.printed, resumed.total) == (8, 8)
    after = first.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    assert hashlib.sha256(first.read_bytes()).hexdigest() == digest
    numbers = {n.notice_number for n in made}
    printed = _printed_numbers(resumed, numbers)
    assert printed == _expected_order(resumed)
    assert Counter(printed) == Counter(numbers)  # every slip exactly once


_real_render = slips_pdf.render


def test_crash_between_rename_and_record_reprints_that_part_only(
    media: Path, shuno: Any, monkeypatch: Any
) -> None:
    made = _notices(5)
    real_fsync_dir = printing._fsync_dir
    calls: list[Path] = []

    def crash_after_rename(path: Path) -> None:
        calls.append(path)
        real_fsync_dir(path)
        if len(calls) == 2:
            raise Killed

    monkeypatch.setattr(printing, "_fsync_dir", crash_after_rename)
    run = printing.create_run(title="June", params=PARAMS, actor=shuno)  # not queued here
    with pytest.raises(Killed):
        printing.run(run.pk)
    run.refresh_from_db()
    assert run.status == PrintRun.Status.RUNNING
    assert (media / "print-runs" / str(run.pk) / "part-0002.pdf").is_file()  # on disk …
    assert list(run.parts.values_list("number", flat=True)) == [1]  # … but not recorded
    monkeypatch.setattr(printing, "_fsync_dir", real_fsync_dir)
    done = printing.run(run.pk)
    assert done.status == PrintRun.Status.DONE
    printed = _printed_numbers(done, {n.notice_number for n in made})
    assert Counter(printed) == Counter(n.notice_number for n in made)


def test_selection_rules(media: Path, shuno: Any, django_capture_on_commit_callbacks: Any) -> None:
    made = _notices(4)
    other = make_kind("suido", tax_code="301", department_code="suido", is_tax=False)
    make_charge(kind=other, amounts=(500,))
    Installment.objects.filter(pk=made[0].installment_id).update(status=Installment.Status.PAID)
    assert printing.count_notices(PARAMS) == 3
    assert printing.count_notices({**PARAMS, "period": 2}) == 0
    assert printing.count_notices({**PARAMS, "fiscal_year": 2025}) == 0
    assert printing.count_notices({"kind": "suido", "fiscal_year": 2026}) == 1
    first = _create(shuno, django_capture_on_commit_callbacks)
    assert first.total == 3
    # never printed: nothing left; all again: the same three
    assert printing.count_notices({**PARAMS, "only_unprinted": True}) == 0
    assert printing.count_notices(PARAMS) == 3
    with pytest.raises(printing.PrintError):
        printing.create_run(title="x", params={**PARAMS, "only_unprinted": True}, actor=shuno)


def test_notices_of_an_unfinished_run_are_not_taken_by_another(media: Path, shuno: Any) -> None:
    _notices(3)
    pending = printing.create_run(title="pending", params=PARAMS, actor=shuno)  # not run
    assert pending.status == PrintRun.Status.QUEUED
    assert printing.count_notices(PARAMS) == 0
    with pytest.raises(printing.PrintError):
        printing.create_run(title="again", params=PARAMS, actor=shuno)


# --- staff pages --------------------------------------------------------------------------------


def test_staff_journey_count_start_progress_download(
    client: Any, media: Path, shuno: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _notices(4)
    login_staff(client, shuno)
    client.cookies["cityhall_lang"] = "en"
    url = reverse("paystaff:print")
    page = client.get(url)
    assert page.status_code == 200
    assert "New print run" in page.content.decode()

    form = {"kind": "kojin-juminzei", "fiscal_year": "2026", "only_unprinted": "on"}
    counted = client.post(url, {**form, "action": "count"})
    body = counted.content.decode()
    assert counted.status_code == 200
    assert "4 slips would be printed" in body
    assert 'value="start"' in body
    assert not PrintRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url, {**form, "action": "start"})
    run = PrintRun.objects.get()
    assert started.status_code == 302
    assert started["Location"] == reverse("paystaff:print_run", args=[run.pk])
    assert run.status == PrintRun.Status.DONE and run.total == 4
    assert run.created_by_id == shuno.pk

    detail = client.get(started["Location"]).content.decode()
    assert "<progress" in detail and 'value="4"' in detail
    part_url = reverse("paystaff:print_part", args=[run.pk, 2])
    assert part_url in detail
    progress = client.get(reverse("paystaff:print_progress", args=[run.pk]))
    text = progress.content.decode()
    assert progress.status_code == 200 and progress["Cache-Control"] == "no-store"
    assert 'max="4"' in text and "4 of 4 slips printed" in text
    assert "data-poll" not in text  # finished: the page stops polling

    download = client.get(part_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    body_bytes = b"".join(download.streaming_content)
    assert hashlib.sha256(body_bytes).hexdigest() == run.parts.get(number=2).sha256
    event = AuditEvent.objects.get(action="payments.print_part_downloaded")
    assert event.actor_id == shuno.pk and event.details["part"] == 2
    assert client.get(reverse("paystaff:print_part", args=[run.pk, 9])).status_code == 404

    listing = client.get(url).content.decode()
    assert "June" not in listing and "kojin-juminzei 2026" in listing


def test_form_errors_and_nothing_to_print(client: Any, media: Path, shuno: Any) -> None:
    _notices(1)
    login_staff(client, shuno)
    client.cookies["cityhall_lang"] = "en"
    url = reverse("paystaff:print")
    bad = client.post(url, {"kind": "", "fiscal_year": "abc", "action": "count"})
    assert bad.status_code == 400
    assert 'id="error-summary"' in bad.content.decode()
    none = client.post(url, {"kind": "kojin-juminzei", "fiscal_year": "2020", "action": "count"})
    assert "nothing to print" in none.content.decode()
    refused = client.post(url, {"kind": "kojin-juminzei", "fiscal_year": "2020", "action": "start"})
    assert refused.status_code == 400
    assert not PrintRun.objects.exists()


def test_progress_of_a_running_run_polls_and_resume_button(
    client: Any, media: Path, shuno: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _notices(5)
    _crash_on_call(monkeypatch, 2, RuntimeError("paper jam"))
    run = _create(shuno, django_capture_on_commit_callbacks)
    assert run.status == PrintRun.Status.FAILED
    login_staff(client, shuno)
    client.cookies["cityhall_lang"] = "en"
    detail = client.get(reverse("paystaff:print_run", args=[run.pk])).content.decode()
    assert "paper jam" in detail and "Resume printing" in detail
    assert 'value="3"' in detail and 'max="5"' in detail

    monkeypatch.setattr(slips_pdf, "render", _real_render)
    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(reverse("paystaff:print_run", args=[run.pk]))
    assert resumed.status_code == 302
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE and run.printed == 5
    assert AuditEvent.objects.filter(action="payments.print_run_resumed").count() == 1
    # a finished run cannot be resumed
    client.post(reverse("paystaff:print_run", args=[run.pk]))
    assert AuditEvent.objects.filter(action="payments.print_run_resumed").count() == 1

    queued = printing.create_run(title="queued", params=PARAMS, actor=shuno)  # not run yet
    text = client.get(reverse("paystaff:print_progress", args=[queued.pk])).content.decode()
    assert "data-poll=" in text and "hx-trigger" not in text  # one poller: the page's script
    page = client.get(reverse("paystaff:print_run", args=[queued.pk])).content.decode()
    assert "Refresh to see the progress" in page
    assert "Resume printing" not in page  # fresh: not stalled


def test_a_stalled_run_can_be_resumed(media: Path, shuno: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    _notices(2)
    run = printing.create_run(title="stalled", params=PARAMS, actor=shuno)
    assert not printing.can_resume(run)
    later = timezone.now() + printing.STALE_AFTER + dt.timedelta(minutes=1)
    assert printing.can_resume(run, now=later)


@pytest.mark.parametrize("who", ["other_clerk", "resident"])
def test_only_the_central_department_may_print(
    client: Any, media: Path, shuno: Any, who: str
) -> None:
    _notices(1)
    run = printing.create_run(title="x", params=PARAMS, actor=shuno)
    PrintRunPart.objects.create(
        run=run, number=1, first_seq=1, last_seq=1, path="x.pdf", sha256="0" * 64, pages=1
    )
    if who == "other_clerk":
        login_staff(client, make_staff("suido@city.iga.example", "clerk", "suido"))
    else:
        client.force_login(make_resident())
    urls = [
        reverse("paystaff:print"),
        reverse("paystaff:print_run", args=[run.pk]),
        reverse("paystaff:print_progress", args=[run.pk]),
        reverse("paystaff:print_part", args=[run.pk, 1]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        if who == "other_clerk":
            assert response.status_code == 403, url
    response = client.post(reverse("paystaff:print"), {**PARAMS, "action": "start"})
    assert response.status_code in (302, 403)
    assert PrintRun.objects.count() == 1
    assert not AuditEvent.objects.filter(action="payments.print_part_downloaded").exists()


def test_command_prints_counts_and_resumes(media: Path, monkeypatch: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    _notices(4)
    out = StringIO()
    call_command(
        "print_slips", "--count", "--kind", "kojin-juminzei", "--fiscal-year", "2026", stdout=out
    )
    assert "4 slips would be printed" in out.getvalue()
    _crash_on_call(monkeypatch, 2, RuntimeError("toner"))
    with pytest.raises(CommandError, match="--resume"):
        call_command("print_slips", "--kind", "kojin-juminzei", "--fiscal-year", "2026")
    run = PrintRun.objects.get()
    assert run.status == PrintRun.Status.FAILED and run.created_by is None
    monkeypatch.setattr(slips_pdf, "render", _real_render)
    out = StringIO()
    call_command("print_slips", "--resume", str(run.pk), stdout=out)
    assert f"run {run.pk} done: 4 slips" in out.getvalue()
    assert "part-0002.pdf" in out.getvalue()
