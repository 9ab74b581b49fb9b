"""Batch printing of slips (一括印刷): print runs split into PDF parts, resumable.

A run is created with the notices it prints numbered ``print_seq`` 1…N in one
transaction (ordered by postal code, then payer, so the envelopes come out in
mail-sorting order). A background task (:func:`cityhall.payments.tasks.print_slips`)
then renders part *k* — seq ``(k-1)·part_size+1 … min(k·part_size, N)`` — to
``MEDIA_ROOT/print-runs/<run id>/part-<k:04d>.pdf``: into a temporary file in the
same folder, flushed and fsynced, then renamed over the final name (``os.replace``,
atomic), and only then recorded as a :class:`PrintRunPart` with its SHA-256 and page
count. A crash at any point leaves either a recorded, complete part or no record at
all, so :func:`run` called again continues at the first part without a record: no
slip is printed twice and none is skipped, and finished parts are never rewritten.

Memory stays flat: each part streams its notices with ``.iterator(chunk_size=…)``
into the renderer, which writes page by page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.payments.models import Installment, PaymentNotice, PrintRun, PrintRunPart
from cityhall.payments.services import notices as notice_service
from cityhall.payments.slips.data import SlipData

log = logging.getLogger(__name__)

RUNS_DIR = "print-runs"
CHUNK = 500
#: A RUNNING run whose last sign of life is older than this may be resumed by staff.
STALE_AFTER = dt.timedelta(minutes=10)
UNFINISHED = (PrintRun.Status.QUEUED, PrintRun.Status.RUNNING, PrintRun.Status.FAILED)


class PrintError(ValueError):
    """A run that cannot be created or resumed; the message is translated."""


# --- choosing the notices --------------------------------------------------------------------


def _clean_params(params: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if params.get("kind"):
        clean["kind"] = str(params["kind"])
    if params.get("fiscal_year"):
        clean["fiscal_year"] = int(params["fiscal_year"])
    if params.get("period"):
        clean["period"] = int(params["period"])
    clean["only_unprinted"] = bool(params.get("only_unprinted"))
    return clean


def select_notices(params: dict[str, Any]) -> QuerySet[PaymentNotice]:
    """The active slips of open instalments that ``params`` choose, not held by a run
    still in progress (kind code, fiscal year, period, only never printed)."""
    params = _clean_params(params)
    qs = PaymentNotice.objects.filter(
        status=PaymentNotice.Status.ACTIVE, installment__status=Installment.Status.OPEN
    ).exclude(print_run__status__in=UNFINISHED)
    if "kind" in params:
        qs = qs.filter(installment__charge__kind__code=params["kind"])
    if "fiscal_year" in params:
        qs = qs.filter(installment__charge__fiscal_year=params["fiscal_year"])
    if "period" in params:
        qs = qs.filter(installment__period=params["period"])
    if params["only_unprinted"]:
        qs = qs.filter(print_run__isnull=True)
    return qs


def count_notices(params: dict[str, Any]) -> int:
    return select_notices(params).count()


PRINT_ORDER = (
    "installment__charge__payer_postal_code",
    "installment__charge__payer_key",
    "installment__charge__kind__code",
    "installment__period",
    "id",
)


def create_run(
    *,
    title: str,
    params: dict[str, Any],
    actor: Any,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> PrintRun:
    """A new run over the notices ``params`` choose, numbered 1…N, and its task queued
    (after the transaction commits; ``enqueue=False`` when the caller prints it itself).
    Raises :class:`PrintError` when nothing matches."""
    params = _clean_params(params)
    with transaction.atomic():
        ids = list(
            select_notices(params)
            .select_for_update(of=("self",))
            .order_by(*PRINT_ORDER)
            .values_list("id", flat=True)
        )
        if not ids:
            raise PrintError(_("No slip matches these choices: nothing to print."))
        run = PrintRun.objects.create(
            title=title[:200],
            params=params,
            total=len(ids),
            part_size=max(1, int(settings.PAYMENT_PRINT_PART_SIZE)),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        PaymentNotice.objects.bulk_update(
            [PaymentNotice(pk=pk, print_run=run, print_seq=seq) for seq, pk in enumerate(ids, 1)],
            ["print_run", "print_seq"],
            batch_size=1000,
        )
        audit.record(
            "payments.print_run_created",
            request=request,
            actor=actor,
            target=run,
            details={"title": run.title, "params": params, "total": run.total},
        )
        if enqueue:
            _enqueue_on_commit(run.pk)
    return run


def _enqueue_on_commit(run_id: int) -> None:
    from cityhall.payments import tasks

    transaction.on_commit(lambda: tasks.print_slips.enqueue(run_id))


def can_resume(run: PrintRun, *, now: dt.datetime | None = None) -> bool:
    """Failed runs, and runs that stopped showing progress (worker killed, never picked up)."""
    if run.status == PrintRun.Status.FAILED:
        return True
    if run.status not in (PrintRun.Status.RUNNING, PrintRun.Status.QUEUED):
        return False
    now = now or timezone.now()
    last = run.parts.order_by("-finished_at").values_list("finished_at", flat=True).first()
    seen = max(t for t in (run.created_at, run.started_at, last) if t is not None)
    return now - seen > STALE_AFTER


def resume(run_id: int, *, actor: Any, request: HttpRequest | None = None) -> PrintRun:
    """Queue a stopped run again; it continues at its first missing part. Audited."""
    with transaction.atomic():
        run = PrintRun.objects.select_for_update().get(pk=run_id)
        if not can_resume(run):
            raise PrintError(_("This run is not stopped: it cannot be resumed now."))
        run.status = PrintRun.Status.QUEUED
        run.error = ""
        run.save(update_fields=["status", "error"])
        audit.record(
            "payments.print_run_resumed",
            request=request,
            actor=actor,
            target=run,
            details={"printed": run.printed, "total": run.total},
        )
        _enqueue_on_commit(run.pk)
    return run


# --- printing ---------------------------------------------------------------------------------


def part_count(run: PrintRun) -> int:
    return (run.total + run.part_size - 1) // run.part_size if run.total else 0


def seq_range(run: PrintRun, number: int) -> tuple[int, int]:
    first = (number - 1) * run.part_size + 1
    return first, min(number * run.part_size, run.total)


def run_dir(run_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / RUNS_DIR / str(run_id)


def part_relpath(run_id: int, number: int) -> str:
    return f"{RUNS_DIR}/{run_id}/part-{number:04d}.pdf"


def part_file(part: PrintRunPart) -> Path:
    return Path(settings.MEDIA_ROOT) / part.path


def _slips(run: PrintRun, first: int, last: int) -> Generator[SlipData, None, None]:
    """The slips of seq first…last in order; raises if one is missing (never skip)."""
    expected = first
    rows = (
        notice_service.slip_queryset()
        .filter(print_run=run, print_seq__gte=first, print_seq__lte=last)
        .order_by("print_seq")
        .iterator(chunk_size=CHUNK)
    )
    for notice in rows:
        if notice.print_seq != expected:
            raise PrintError(_("Slip number %(seq)d of the run is missing.") % {"seq": expected})
        yield notice_service.slip_data(notice)
        expected += 1
    if expected != last + 1:
        raise PrintError(_("Slip number %(seq)d of the run is missing.") % {"seq": expected})


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be fsynced
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _render_part(run: PrintRun, number: int) -> PrintRunPart | None:
    from cityhall.payments.slips import pdf

    first, last = seq_range(run, number)
    folder = run_dir(run.pk)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"part-{number:04d}.pdf"
    temp = folder / f".part-{number:04d}.{uuid.uuid4().hex}.tmp"
    digest = hashlib.sha256()
    slips = _slips(run, first, last)
    try:
        with temp.open("wb") as out:
            try:
                pages = pdf.render(slips, out)
            finally:
                slips.close()  # closes the database cursor now, even when the renderer failed
            out.flush()
            os.fsync(out.fileno())
        if pages != last - first + 1:
            raise PrintError(
                _("Part %(number)d has %(pages)d pages instead of %(slips)d.")
                % {"number": number, "pages": pages, "slips": last - first + 1}
            )
        with temp.open("rb") as written:
            for block in iter(lambda: written.read(1 << 20), b""):
                digest.update(block)
        os.replace(temp, final)
        _fsync_dir(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    try:
        with transaction.atomic():
            part = PrintRunPart.objects.create(
                run=run,
                number=number,
                first_seq=first,
                last_seq=last,
                path=part_relpath(run.pk, number),
                sha256=digest.hexdigest(),
                pages=pages,
            )
            printed = sum(
                p.last_seq - p.first_seq + 1 for p in PrintRunPart.objects.filter(run=run)
            )
            PrintRun.objects.filter(pk=run.pk).update(printed=printed)
    except IntegrityError:  # another worker recorded this part first
        return None
    return part


def run(run_id: int) -> PrintRun:
    """Print every part of the run that is not printed yet; resumable at any point.

    Status goes QUEUED → RUNNING → DONE, or FAILED with the error text (the staff
    page can resume it). A hard crash (the process killed) leaves RUNNING; calling
    this again continues.
    """
    with transaction.atomic():
        current = PrintRun.objects.select_for_update().get(pk=run_id)
        if current.status == PrintRun.Status.DONE:
            return current
        current.status = PrintRun.Status.RUNNING
        current.error = ""
        current.started_at = current.started_at or timezone.now()
        current.save(update_fields=["status", "error", "started_at"])
    try:
        done = set(PrintRunPart.objects.filter(run=current).values_list("number", flat=True))
        for number in range(1, part_count(current) + 1):
            if number in done or PrintRunPart.objects.filter(run=current, number=number).exists():
                continue
            _render_part(current, number)
    except Exception as exc:
        log.exception("print run %s failed", run_id)
        PrintRun.objects.filter(pk=run_id).update(
            status=PrintRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        current.refresh_from_db()
        return current
    PrintRun.objects.filter(pk=run_id).update(
        status=PrintRun.Status.DONE, finished_at=timezone.now()
    )
    current.refresh_from_db()
    return current


def runs_for_listing() -> QuerySet[PrintRun]:
    return PrintRun.objects.select_related("created_by")


def record_download(part: PrintRunPart, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Audit that a part (names and addresses of many payers) was downloaded."""
    audit.record(
        "payments.print_part_downloaded",
        request=request,
        actor=actor,
        target=part.run,
        details={"part": part.number, "first_seq": part.first_seq, "last_seq": part.last_seq},
    )


__all__ = [
    "PrintError",
    "can_resume",
    "count_notices",
    "create_run",
    "part_count",
    "record_download",
    "resume",
    "run",
    "select_notices",
]
