"""Reconciliation (消込): read a collection file, match every row, book what came in.

:func:`import_collection_file` is the one entry point for the three sources (the
collection agent's CSV, 全銀 direct-debit results, eL-QR payments through IFS). It

1. hashes the bytes: a file already applied is returned as it is, nothing changes;
2. reads the rows with the framework-free adapter of the kind
   (:mod:`cityhall.payments.reconciliation`);
3. matches and applies them in ONE transaction, set-based: rows are taken in chunks,
   the slips of a chunk are looked up with one query, outcomes are decided in Python in
   file order (so a 02 finds the 01 earlier in the same file), lines and payments are
   written with ``COPY`` on PostgreSQL (``executemany`` on SQLite), earlier payments are
   promoted or reversed with one statement per chunk, and finally every touched
   installment (and its slips) is recomputed by :func:`ledger.refresh_installments`;
4. records every row as a :class:`ReconciliationLine` with its outcome and a reason,
   the counts per outcome in ``ImportedFile.summary``, and an audit entry.

A crash anywhere inside leaves nothing behind (the transaction rolls back whole).

The rules, per source, are in :func:`_Matcher.agent`, :func:`_Matcher.zengin` and
:func:`_Matcher.ifs`; ``docs/payments/reconciliation.md`` explains each outcome and what
the clerk does about it. Reasons are English msgids stored as they are and translated
when shown (:func:`reason_text`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from cityhall.core import audit
from cityhall.payments import permissions
from cityhall.payments.models import (
    Channel,
    ImportedFile,
    Installment,
    Payment,
    PaymentNotice,
    ReconciliationLine,
    Refund,
)
from cityhall.payments.reconciliation import agent_csv, ifs, zengin
from cityhall.payments.reconciliation.records import (
    NaturalKey,
    Problem,
    Record,
    key_of,
    natural_key,
    paid_time_of_raw,
)
from cityhall.payments.services import ledger

Outcome = ReconciliationLine.Outcome
Resolution = ReconciliationLine.Resolution
KINDS = (ImportedFile.Kind.AGENT_CSV, ImportedFile.Kind.ZENGIN, ImportedFile.Kind.IFS)
CHUNK = 20_000
# PostgreSQL: bigger chunks, fewer joins — a chunk's lookups are hash joins that read the
# whole slip table once, so ten of them beat fifty (≈ 60 MB of rows held per chunk).
PG_CHUNK = 100_000
LOOKUP_BATCH = 900  # SQLite's parameter limit, with room
MAX_PROBLEMS = 200
MAX_SIZE = 512 * 1024 * 1024

LINE = ReconciliationLine._meta.db_table
FILE = ImportedFile._meta.db_table
NULL = "\\N"  # COPY's NULL
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _esc(text: str) -> str:
    """A text value for COPY's text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def _fill_keys(cursor: Any, keys: list[Any], cast: str) -> None:
    """Put ``keys`` into the temporary table ``reconcile_keys`` (text) or ``reconcile_ids``
    (bigint), emptied first: the set joined by the next statement (one COPY, instead of
    a parameter per key)."""
    table = "reconcile_ids" if cast == "bigint" else "reconcile_keys"
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (k {cast}) ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {table}")
    with cursor.cursor.copy(f"COPY {table} (k) FROM STDIN") as copy:
        copy.write("".join(f"{_esc(str(k))}\n" for k in keys))
    cursor.execute(f"ANALYZE {table}")


PAYMENT = Payment._meta.db_table
NOTICE = PaymentNotice._meta.db_table
INSTALLMENT = Installment._meta.db_table
LINE_COLUMNS = (
    "file_id",
    "line_no",
    "record_kind",
    "code",
    "amount_yen",
    "paid_on",
    "booked_on",
    "channel",
    "store_code",
    "outcome",
    "reason",
    "notice_id",
    "payment_id",
    "raw",
    "needs_review",
    "resolution",
    "resolution_note",
)
PAYMENT_COLUMNS = (
    "id",
    "installment_id",
    "notice_id",
    "channel",
    "state",
    "amount_yen",
    "paid_on",
    "booked_on",
    "store_code",
    "store_name",
    "source_file_id",
    "created_at",
)
# Outcomes that wait in the clerk's queue.
REVIEW = frozenset(
    {
        Outcome.DUPLICATE,
        Outcome.SUPERSEDED,
        Outcome.AMOUNT_MISMATCH,
        Outcome.UNKNOWN,
        Outcome.MALFORMED,
    }
)


# --- reasons (English msgids; shown translated) ------------------------------------------------

R_PROVISIONAL = N_("Paid at a store (速報): reminders stop until the 確報 arrives.")
R_FINAL_CONFIRMED = N_("確報 (02) of an earlier 速報 (01): booked as revenue on the 振込日.")
R_FINAL_NO_PROVISIONAL = N_(
    "確報 (02) without an earlier 速報 (01) for this slip: booked as revenue on the 振込日."
)
R_POSTAL = N_("Paid at a post office (払込): booked as revenue on the 振込日.")
R_REVERSED = N_("速報取消 (03): the store cancelled the payment; the instalment is open again.")
R_POSTAL_REVERSED = N_("Correction of a postal payment (22): the payment was reversed.")
R_REVERSE_NOTHING = N_(
    "Cancellation without a payment to cancel (no 速報 or postal payment of this slip "
    "is open): nothing was changed. Check with the collection agent."
)
R_DUPLICATE = N_(
    "This instalment was already paid: the money was booked, and the payer needs a "
    "refund (or book it to another charge)."
)
R_DUPLICATE_CANCELLED = N_(
    "This instalment is cancelled: the money was not booked to it; refund the payer or "
    "book it to another charge."
)
R_SUPERSEDED = N_(
    "An old slip was paid after it was reissued. The instalment was still unpaid, so the "
    "money was booked to it and the reissued slip is no longer payable. Check the amount "
    "still owed (late fees)."
)
R_MISMATCH = N_(
    "The amount paid differs from the slip's amount: nothing was booked. Apply it, book it "
    "to another charge, or refund it."
)
R_UNKNOWN = N_("No slip has this code: nothing was booked. Find the charge, or refund it.")
R_CHECK_MISMATCH = N_(
    "The 確認番号 does not match the slip with this notice number: nothing was booked."
)
R_DEBIT_PAID = N_("Debited from the payer's account: booked as revenue on the debit date.")
R_DEBIT_NOT_PAID = N_("Direct debit not made: %(result)s. The instalment stays open.")
R_ELQR = N_("Paid with the eL-QR or eL番号 (共通納税): booked as revenue on the 振込日.")
R_RESOLVED_BOOKED = N_("Booked by the clerk's decision.")
R_ALREADY_READ = N_(
    "The same row was already read from the file %(file)s (line %(line)s): nothing was "
    "booked again."
)
# Where the 収納時刻 is in a stored row's ``raw`` (cell index), per file kind: part of the
# natural key (:func:`records.natural_key`) of the rows read before.
PAID_TIME_CELL: dict[str, int] = {ImportedFile.Kind.AGENT_CSV: 2, ImportedFile.Kind.IFS: 1}

DEBIT_RESULTS = {
    "1": N_("insufficient funds (資金不足)"),
    "2": N_("no such account (取引なし)"),
    "3": N_("stopped by the account holder (預金者都合)"),
    "4": N_("no debit authorisation on file (依頼書なし)"),
    "8": N_("stopped by the city (委託者都合)"),
    "9": N_("other reason (その他)"),
}
# The adapters' problem details, listed so that they are translated too.
PARSER_DETAILS = (
    N_("the row is not CP932 (Shift_JIS) text"),
    N_("the row does not have 13 columns"),
    N_("the record kind is not 01, 02, 03, 12 or 22"),
    N_("the barcode is not EAN followed by 44 digits"),
    N_("the barcode's check digit is wrong"),
    N_("the payment date is not a valid YYYYMMDD date"),
    N_("the payment time is not HHMM"),
    N_("the amount is not a whole number of yen"),
    N_("the transfer date is missing or not a valid YYYYMMDD date"),
    N_("the record is not 120 bytes"),
    N_("the amount is not 10 digits"),
    N_("the result code is not 0, 1, 2, 3, 4, 8 or 9"),
    N_("the customer number is not a 20-digit notice number"),
    N_("the record kind is not 1, 2, 8 or 9"),
    N_("the row is neither UTF-8 nor CP932 text"),
    N_("the row does not have 10 columns"),
    N_("the institution code is not 5 digits"),
    N_("the notice number is not 20 digits"),
    N_("the check number is not 6 digits"),
    N_("the tax code is not 3 digits"),
    N_("the file does not start with a header record"),
    N_("the header record is not 120 bytes"),
    N_("the debit date is not a valid MMDD date near today"),
    N_("the file has no trailer record (8): it may be cut short"),
    N_("the trailer's count or total differs from the data records"),
    N_("the trailer's debited count or total differs from the data"),
)


def reason_text(reason: str) -> str:
    """A stored reason in the clerk's language (``msgid`` or ``msgid|result-code``)."""
    if "|" in reason:
        msgid, _sep, rest = reason.partition("|")
        if msgid == R_ALREADY_READ:
            name, _sep, line = rest.rpartition("|")
            return gettext(msgid) % {"file": name, "line": line}
        return gettext(msgid) % {"result": gettext(DEBIT_RESULTS.get(rest, rest))}
    return gettext(reason)


class ReconcileError(ValueError):
    """A request the reconciliation refuses; the message is for the clerk."""


# --- import ----------------------------------------------------------------------------------


def import_collection_file(
    kind: str,
    data: bytes,
    *,
    filename: str,
    actor: Any,
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> ImportedFile:
    """Read, match and apply one collection file (see the module's docstring)."""
    if kind not in KINDS:
        raise ReconcileError(gettext("Choose the kind of file."))
    if len(data) > MAX_SIZE:
        raise ReconcileError(gettext("The file is too large."))
    digest = hashlib.sha256(data).hexdigest()
    done = ImportedFile.objects.filter(
        kind=kind, sha256=digest, status=ImportedFile.Status.APPLIED
    ).first()
    if done is not None:
        return done
    today = today or timezone.localdate()
    records: Iterator[Record] | list[Record]
    if kind == ImportedFile.Kind.AGENT_CSV:
        records = agent_csv.iter_records(data, check_digits=False)
    else:
        parsed = (
            zengin.parse(data, today=today) if kind == ImportedFile.Kind.ZENGIN else ifs.parse(data)
        )
        if parsed.fatal:
            return _reject(kind, data, digest, filename, parsed.problems, actor, request)
        records = parsed.records
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Durability of this one commit only (a crash in the next few hundred ms can
            # lose the whole import, never half of it; importing the file again redoes it):
            # the commit does not wait for its WAL to reach the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        imported = ImportedFile.objects.create(
            kind=kind,
            filename=filename[:255],
            sha256=digest,
            size=len(data),
            status=ImportedFile.Status.APPLIED,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        matcher = _Matcher(imported, kind)
        matcher.run(records)
        imported.rows = matcher.rows
        imported.summary = {**matcher.counts, "needs_review": matcher.review}
        imported.problems = matcher.problems
        imported.save(update_fields=["rows", "summary", "problems"])
        audit.record(
            "payments.collection_imported",
            request=request,
            actor=actor,
            target=imported,
            details={
                "kind": kind,
                "filename": imported.filename,
                "sha256": digest,
                "rows": matcher.rows,
                "summary": imported.summary,
            },
        )
    return imported


def _reject(
    kind: str,
    data: bytes,
    digest: str,
    filename: str,
    problems: Iterable[Any],
    actor: Any,
    request: HttpRequest | None,
) -> ImportedFile:
    with transaction.atomic():
        rejected = ImportedFile.objects.create(
            kind=kind,
            filename=filename[:255],
            sha256=digest,
            size=len(data),
            status=ImportedFile.Status.REJECTED,
            problems=[p.as_dict() for p in problems][:MAX_PROBLEMS],
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            "payments.collection_rejected",
            request=request,
            actor=actor,
            target=rejected,
            details={"kind": kind, "filename": rejected.filename, "problems": rejected.problems},
        )
    return rejected


@dataclass(slots=True)
class _Notice:
    id: int
    installment_id: int
    amount: int
    status: str
    check_number: str


@dataclass(slots=True)
class _Installment:
    amount: int
    live: int  # provisional + final yen booked so far
    cancelled: bool


@dataclass
class _Matcher:
    file: ImportedFile
    kind: str
    rows: int = 0
    review: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, object]] = field(default_factory=list)
    installments: dict[int, _Installment] = field(default_factory=dict)
    # notice id → reversible payments of it: [payment id, state, amount, channel]
    open_payments: dict[int, list[list[Any]]] = field(default_factory=dict)
    loaded_notices: set[int] = field(default_factory=set)
    touched: set[int] = field(default_factory=set)
    now: Any = None
    lines: list[Any] = field(default_factory=list)  # COPY text (PostgreSQL) or tuples
    new_payments: dict[int, list[Any]] = field(default_factory=dict)
    changed_payments: dict[int, tuple[str, dt.date | None]] = field(default_factory=dict)
    _ids: list[int] = field(default_factory=list)
    # Rows of earlier applied files that this chunk's rows may repeat: key → [(file, line)].
    earlier: dict[NaturalKey, list[tuple[str, int]]] = field(default_factory=dict)
    pg: bool = False
    _written: int = 0  # payments written by this import so far
    _analyzed: int = 1_000  # … when the payment table's statistics were last refreshed
    _dates: dict[dt.date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Raw SQL takes the timestamp as the backend stores it (naive UTC on SQLite).
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        self.pg = connection.vendor == "postgresql"

    # -- the loop ------------------------------------------------------------------------

    def run(self, records: Iterable[Record]) -> None:
        iterator = iter(records)
        size = PG_CHUNK if self.pg else CHUNK
        while chunk := list(islice(iterator, size)):
            self._chunk(chunk)
        ledger.send_paid_signals(self._fee_installments(ledger.refresh_installments(self.touched)))

    def _chunk(self, chunk: list[Record]) -> None:
        notices = self._lookup(chunk)
        self._load_state(notices.values())
        self._load_earlier(chunk, notices)
        decide = getattr(self, self.kind)
        agent = self.kind == ImportedFile.Kind.AGENT_CSV
        earlier = self.earlier
        for record in chunk:
            self.rows += 1
            if record.problem is not None:
                self._malformed(record)
                continue
            notice = notices.get(record.code if agent else record.notice_number)
            if earlier and self._already_read(record, notice):
                continue
            decide(record, notice)
        self._flush()

    def _already_read(self, record: Record, notice: _Notice | None) -> bool:
        """A row an earlier applied file already had (the agent sent its rows again)."""
        seen = self.earlier.get(key_of(record))
        if not seen:
            return False
        name, line_no = seen.pop(0)  # one earlier row answers one repeated row
        reason = f"{R_ALREADY_READ}|{name[:200]}|{line_no}"
        self._line(record, Outcome.ALREADY_READ, reason, notice, None, review=False)
        return True

    # -- outcomes ------------------------------------------------------------------------

    def _malformed(self, record: Record) -> None:
        assert record.problem is not None
        self._line(record, Outcome.MALFORMED, record.problem.detail, None, None)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(record.problem.as_dict())

    def agent(self, record: Record, notice: _Notice | None) -> None:
        if notice is None:
            if not agent_csv.check_digit_ok(record.code):
                record.problem = Problem(
                    record.line_no, "バーコード情報", agent_csv.BAD_CHECK_DIGIT
                )
                self._malformed(record)
                return
            self._line(record, Outcome.UNKNOWN, R_UNKNOWN, None, None)
            return
        if record.amount != notice.amount:
            self._line(record, Outcome.AMOUNT_MISMATCH, R_MISMATCH, notice, None)
            return
        kind = record.record_kind
        if kind in (agent_csv.CANCEL, agent_csv.POSTAL_CANCEL):
            wanted = (
                (Payment.State.PROVISIONAL, Channel.CVS)
                if kind == agent_csv.CANCEL
                else (Payment.State.FINAL, Channel.POSTAL)
            )
            found = self._take_open(notice, record.amount, *wanted)
            if found is None:
                self._line(record, Outcome.REVERSED, R_REVERSE_NOTHING, notice, None, review=True)
                return
            self._change(found, Payment.State.REVERSED, None)
            self.installments[notice.installment_id].live -= record.amount or 0
            self.touched.add(notice.installment_id)
            reason = R_REVERSED if kind == agent_csv.CANCEL else R_POSTAL_REVERSED
            self._line(record, Outcome.REVERSED, reason, notice, found)
            return
        if kind == agent_csv.FINAL:
            found = self._take_open(notice, record.amount, Payment.State.PROVISIONAL, Channel.CVS)
            if found is not None:
                self._change(found, Payment.State.FINAL, record.booked_on)
                self.touched.add(notice.installment_id)
                self._line(record, Outcome.FINAL, R_FINAL_CONFIRMED, notice, found)
                return
            self._book(record, notice, Payment.State.FINAL, Outcome.FINAL, R_FINAL_NO_PROVISIONAL)
            return
        if kind == agent_csv.POSTAL:
            self._book(record, notice, Payment.State.FINAL, Outcome.FINAL, R_POSTAL)
            return
        self._book(record, notice, Payment.State.PROVISIONAL, Outcome.PROVISIONAL, R_PROVISIONAL)

    def zengin(self, record: Record, notice: _Notice | None) -> None:
        if record.result_code != zengin.PAID:
            reason = f"{R_DEBIT_NOT_PAID}|{record.result_code}"
            self._line(record, Outcome.NOT_PAID, reason, notice, None)
            return
        if notice is None:
            self._line(record, Outcome.UNKNOWN, R_UNKNOWN, None, None)
            return
        if record.amount != notice.amount:
            self._line(record, Outcome.AMOUNT_MISMATCH, R_MISMATCH, notice, None)
            return
        self._book(record, notice, Payment.State.FINAL, Outcome.PAID, R_DEBIT_PAID)

    def ifs(self, record: Record, notice: _Notice | None) -> None:
        if notice is None:
            self._line(record, Outcome.UNKNOWN, R_UNKNOWN, None, None)
            return
        if record.check_number != notice.check_number:
            self._line(record, Outcome.UNKNOWN, R_CHECK_MISMATCH, None, None)
            return
        if record.amount != notice.amount:
            self._line(record, Outcome.AMOUNT_MISMATCH, R_MISMATCH, notice, None)
            return
        self._book(record, notice, Payment.State.FINAL, Outcome.FINAL, R_ELQR)

    def _book(self, record: Record, notice: _Notice, state: str, outcome: str, reason: str) -> None:
        """Create a payment for the row; a paid, cancelled or superseded target makes the
        line an exception (the money is booked where it is real)."""
        installment = self.installments[notice.installment_id]
        amount = record.amount or 0
        if installment.cancelled:
            self._line(record, Outcome.DUPLICATE, R_DUPLICATE_CANCELLED, notice, None)
            return
        if installment.live >= installment.amount > 0:
            outcome, reason = Outcome.DUPLICATE, R_DUPLICATE
        elif notice.status == PaymentNotice.Status.SUPERSEDED:
            outcome, reason = Outcome.SUPERSEDED, R_SUPERSEDED
        payment_id = self._next_id()
        booked = record.booked_on if state == Payment.State.FINAL else None
        self.new_payments[payment_id] = [
            payment_id,
            notice.installment_id,
            notice.id,
            record.channel,
            state,
            amount,
            record.paid_on,
            booked or (record.paid_on if state == Payment.State.FINAL else None),
            record.store_code,
            record.store_name,
            self.file.pk,
            self.now,
        ]
        installment.live += amount
        self.touched.add(notice.installment_id)
        if (state == Payment.State.PROVISIONAL and record.channel == Channel.CVS) or (
            state == Payment.State.FINAL and record.channel == Channel.POSTAL
        ):
            self.open_payments.setdefault(notice.id, []).append(
                [payment_id, state, amount, record.channel]
            )
        self._line(record, outcome, reason, notice, payment_id)

    def _take_open(
        self, notice: _Notice, amount: int | None, state: str, channel: str
    ) -> int | None:
        """The earliest open payment of ``notice`` with this state, channel and amount."""
        waiting = self.open_payments.get(notice.id)
        if not waiting:
            return None
        for index, (pid, p_state, p_amount, p_channel) in enumerate(waiting):
            if p_state == state and p_channel == channel and p_amount == amount:
                del waiting[index]
                if not waiting:
                    del self.open_payments[notice.id]
                return int(pid)
        return None

    def _change(self, payment_id: int, state: str, booked_on: dt.date | None) -> None:
        pending = self.new_payments.get(payment_id)
        if pending is not None:
            pending[4] = state
            if booked_on is not None:
                pending[7] = booked_on
        else:
            self.changed_payments[payment_id] = (state, booked_on)

    def _line(
        self,
        record: Record,
        outcome: str,
        reason: str,
        notice: _Notice | None,
        payment_id: int | None,
        *,
        review: bool | None = None,
    ) -> None:
        needs_review = outcome in REVIEW if review is None else review
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self.review += needs_review
        if self.pg:
            # One line of COPY text at once (no tuple, no per-field adaptation).
            amount = record.amount
            self.lines.append(
                f"{self.file.pk}\t{record.line_no}\t{_esc(record.record_kind[:4])}\t"
                f"{_esc(record.code[:64])}\t{NULL if amount is None else amount}\t"
                f"{self._date(record.paid_on)}\t{self._date(record.booked_on)}\t"
                f"{record.channel}\t{_esc(record.store_code[:10])}\t{outcome}\t"
                f"{_esc(reason[:300])}\t{notice.id if notice else NULL}\t"
                f"{NULL if payment_id is None else payment_id}\t{_esc(record.raw)}\t"
                f"{'t' if needs_review else 'f'}\t\t\n"
            )
            return
        self.lines.append(
            (
                self.file.pk,
                record.line_no,
                record.record_kind[:4],
                record.code[:64],
                record.amount,
                record.paid_on,
                record.booked_on,
                record.channel,
                record.store_code[:10],
                outcome,
                reason[:300],
                notice.id if notice else None,
                payment_id,
                record.raw,
                needs_review,
                "",
                "",
            )
        )

    def _date(self, value: dt.date | None) -> str:
        if value is None:
            return NULL
        text = self._dates.get(value)
        if text is None:
            text = self._dates[value] = value.isoformat()
        return text

    # -- reading ---------------------------------------------------------------------------

    def _load_earlier(self, chunk: list[Record], notices: dict[str, _Notice]) -> None:
        """The rows of earlier applied files of this kind that name a slip of the chunk
        (found by ``notice_id``, indexed) or, for codes that match no slip, the same code.
        Keyed by :func:`records.natural_key`."""
        self.earlier = {}
        ids = sorted({n.id for n in notices.values()})
        agent = self.kind == ImportedFile.Kind.AGENT_CSV
        orphans = sorted(
            {
                r.code[:64]
                for r in chunk
                if r.problem is None and (r.code if agent else r.notice_number) not in notices
            }
        )
        head = (
            f"SELECT l.record_kind, l.code, l.paid_on, l.store_code, l.amount_yen, l.raw, "  # noqa: S608
            f"f.filename, l.line_no FROM {LINE} l JOIN {FILE} f ON f.id = l.file_id "
            "WHERE f.kind = %s AND f.status = 'applied' AND f.id <> %s "
            "AND l.outcome NOT IN ('malformed', 'already_read') AND "
        )
        params: list[Any] = [self.kind, self.file.pk]
        rows: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            # Cheap first: does any earlier file of this kind exist at all?
            cursor.execute(
                f"SELECT 1 FROM {FILE} WHERE kind = %s AND status = 'applied' "  # noqa: S608
                "AND id <> %s LIMIT 1",
                params,
            )
            if cursor.fetchone() is None:
                return
            for column, keys, cast in (("l.notice_id", ids, "bigint"), ("l.code", orphans, "text")):
                for batch in self._batches(keys):
                    if self.pg:
                        _fill_keys(cursor, batch, cast)
                        table = "reconcile_ids" if cast == "bigint" else "reconcile_keys"
                        where = f"{column} IN (SELECT k FROM {table})"  # noqa: S608
                        if cast == "text":
                            where += " AND l.notice_id IS NULL"
                        cursor.execute(head + where, params)
                    else:
                        marks = ",".join("%s" for _ in batch)
                        where = f"{column} IN ({marks})"
                        if cast == "text":
                            where += " AND l.notice_id IS NULL"
                        cursor.execute(head + where, params + batch)
                    rows += cursor.fetchall()
        cell = PAID_TIME_CELL.get(self.kind)
        for kind, code, paid_on, store, amount, raw, name, line_no in sorted(
            rows, key=lambda r: (r[6], r[7])
        ):
            if isinstance(paid_on, str):  # SQLite through a raw cursor
                paid_on = dt.date.fromisoformat(paid_on)
            time = paid_time_of_raw(raw, cell) if cell is not None else ""
            key = natural_key(kind, code, paid_on, time, store, amount)
            self.earlier.setdefault(key, []).append((name, line_no))

    def _lookup(self, chunk: list[Record]) -> dict[str, _Notice]:
        """The slips the chunk names, keyed by barcode (agent) or notice number."""
        agent = self.kind == ImportedFile.Kind.AGENT_CSV
        column = "cvs_barcode" if agent else "notice_number"
        keys = sorted(
            {
                (r.code if agent else r.notice_number)
                for r in chunk
                if r.problem is None and (r.code if agent else r.notice_number)
            }
        )
        found: dict[str, _Notice] = {}
        sql = (
            f"SELECT {column}, id, installment_id, amount_yen, status, check_number "  # noqa: S608
            f"FROM {NOTICE} WHERE {column} "
        )
        for batch in self._batches(keys):
            with connection.cursor() as cursor:
                if self.pg:
                    _fill_keys(cursor, batch, "text")
                    cursor.execute(sql + "IN (SELECT k FROM reconcile_keys)")  # noqa: S608
                else:
                    cursor.execute(sql + f"IN ({','.join('%s' for _ in batch)})", batch)
                for key, *rest in cursor.fetchall():
                    found[key] = _Notice(*rest)
        return found

    def _load_state(self, notices: Iterable[_Notice]) -> None:
        """Installments and open payments not seen yet in this file, from the database."""
        new_installments = sorted(
            {n.installment_id for n in notices if n.installment_id not in self.installments}
        )
        new_notices = sorted({n.id for n in notices if n.id not in self.loaded_notices})
        self.loaded_notices.update(new_notices)
        live = "('provisional', 'final')"
        for batch in self._batches(new_installments):
            rows = self._select(
                f"SELECT id, amount_yen, status FROM {INSTALLMENT} WHERE id",  # noqa: S608
                batch,
            )
            for pk, amount, status in rows:
                self.installments[pk] = _Installment(amount, 0, status == "cancelled")
            rows = self._select(
                f"SELECT installment_id, SUM(amount_yen) FROM {PAYMENT} "  # noqa: S608
                f"WHERE state IN {live} AND installment_id",
                batch,
                tail=" GROUP BY installment_id",
            )
            for pk, total in rows:
                self.installments[pk].live = int(total or 0)
        for batch in self._batches(new_notices):
            rows = self._select(
                f"SELECT id, notice_id, state, amount_yen, channel FROM {PAYMENT} "  # noqa: S608
                "WHERE ((state = 'provisional' AND channel = 'cvs') OR "
                "(state = 'final' AND channel = 'postal')) AND notice_id",
                batch,
                tail=" ORDER BY id",
            )
            for pk, notice_id, state, amount, channel in rows:
                self.open_payments.setdefault(notice_id, []).append([pk, state, amount, channel])

    @staticmethod
    def _batches(keys: list[Any]) -> Iterator[list[Any]]:
        size = PG_CHUNK if connection.vendor == "postgresql" else LOOKUP_BATCH
        for start in range(0, len(keys), size):
            yield keys[start : start + size]

    @staticmethod
    def _select(sql: str, batch: list[Any], tail: str = "") -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The keys go in by COPY and are joined (``= ANY(array)`` of 100,000
                # parameters costs more to adapt than the query to run).
                _fill_keys(cursor, batch, "bigint")
                head, column = sql.rsplit(" ", 1)
                cursor.execute(
                    f"{head} {column} = k.k{tail}".replace(
                        " WHERE ", " JOIN reconcile_ids k ON TRUE WHERE ", 1
                    )
                )
            else:
                cursor.execute(sql + f" IN ({','.join('%s' for _ in batch)})" + tail, batch)
            return list(cursor.fetchall())

    # -- writing ---------------------------------------------------------------------------

    def _next_id(self) -> int:
        if not self._ids:
            self._ids = _reserve_payment_ids(PG_CHUNK if self.pg else CHUNK)
        return self._ids.pop()

    def _flush(self) -> None:
        payments = list(self.new_payments.values())
        with connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor
                if payments:
                    with raw.copy(
                        f"COPY {PAYMENT} ({', '.join(PAYMENT_COLUMNS)}) FROM STDIN"
                    ) as copy:
                        copy.write(self._payment_text(payments))
                with raw.copy(f"COPY {LINE} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                    copy.write("".join(self.lines))
                if self.changed_payments:
                    cursor.execute(
                        "CREATE TEMP TABLE IF NOT EXISTS reconcile_changes "
                        "(id bigint PRIMARY KEY, state varchar(12), booked_on date) "
                        "ON COMMIT DROP"
                    )
                    cursor.execute("TRUNCATE reconcile_changes")
                    with raw.copy("COPY reconcile_changes FROM STDIN") as copy:
                        for pk, (state, booked) in self.changed_payments.items():
                            copy.write_row((pk, state, booked))
                    cursor.execute(
                        f"UPDATE {PAYMENT} p SET state = c.state, "  # noqa: S608
                        "booked_on = COALESCE(c.booked_on, p.booked_on) "
                        "FROM reconcile_changes c WHERE p.id = c.id"
                    )
            else:
                if payments:
                    cursor.executemany(
                        f"INSERT INTO {PAYMENT} ({', '.join(PAYMENT_COLUMNS)}) "  # noqa: S608
                        f"VALUES ({', '.join('%s' for _ in PAYMENT_COLUMNS)})",
                        payments,
                    )
                cursor.executemany(
                    f"INSERT INTO {LINE} ({', '.join(LINE_COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join('%s' for _ in LINE_COLUMNS)})",
                    self.lines,
                )
                if self.changed_payments:
                    cursor.executemany(
                        f"UPDATE {PAYMENT} SET state = %s, "  # noqa: S608
                        "booked_on = COALESCE(%s, booked_on) WHERE id = %s",
                        [(s, b, pk) for pk, (s, b) in self.changed_payments.items()],
                    )
            if self.pg and payments:
                self._written += len(payments)
                if self._written >= 2 * self._analyzed:
                    # The next chunks read payments by installment and slip: without fresh
                    # statistics the planner still believes the table is as small as before
                    # the import and scans all of it, chunk after chunk (quadratic).
                    cursor.execute(f"ANALYZE {PAYMENT}")
                    self._analyzed = self._written
        self.lines = []
        self.new_payments = {}
        self.changed_payments = {}

    def _payment_text(self, payments: list[list[Any]]) -> str:
        """New payments (``PAYMENT_COLUMNS``) as COPY text."""
        now = _esc(str(self.now))
        file_id = self.file.pk
        date = self._date
        return "".join(
            f"{pk}\t{inst}\t{notice}\t{channel}\t{state}\t{amount}\t{date(paid)}\t"
            f"{date(booked)}\t{_esc(store)}\t{_esc(name)}\t{file_id}\t{now}\n"
            for pk, inst, notice, channel, state, amount, paid, booked, store, name, _f, _n in (
                payments
            )
        )

    @staticmethod
    def _fee_installments(ids: list[int]) -> list[int]:
        """Of the installments that became paid, those of a procedure's fee: the signal is
        sent for them (a file of a million rows would otherwise send a million signals to
        listeners that only care about fees). Fees are few: the installments of fee
        charges are read (one query) and intersected with ``ids``."""
        if not ids:
            return []
        fees = set(
            Installment.objects.filter(charge__application__isnull=False).values_list(
                "pk", flat=True
            )
        )
        return [pk for pk in ids if pk in fees]


def _reserve_payment_ids(count: int) -> list[int]:
    """``count`` fresh payment ids, highest first (popped from the end: lowest first)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [PAYMENT, count],
            )
            ids = [row[0] for row in cursor.fetchall()]
        else:
            # The transaction holds SQLite's write lock (the ImportedFile row is written),
            # so nobody else takes ids meanwhile; AUTOINCREMENT never reuses an id.
            cursor.execute(
                f"SELECT MAX(x) FROM (SELECT MAX(id) AS x FROM {PAYMENT} "  # noqa: S608
                "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
                [PAYMENT],
            )
            start = int(cursor.fetchone()[0] or 0) + 1
            ids = list(range(start, start + count))
            # Claim them now, so that the next reservation starts after them.
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start + count - 1, PAYMENT]
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                    [PAYMENT, start + count - 1],
                )
    return sorted(ids, reverse=True)


# --- the clerk's decisions ---------------------------------------------------------------------


def exception_queue(*, outcome: str = "") -> Any:
    """Lines waiting for a decision, oldest first."""
    lines = ReconciliationLine.objects.filter(needs_review=True, resolution="").select_related(
        "file", "notice__installment__charge__kind", "payment"
    )
    if outcome:
        lines = lines.filter(outcome=outcome)
    return lines.order_by("file__created_at", "file_id", "line_no")


def resolutions_for(line: ReconciliationLine, user: Any) -> list[tuple[str, str]]:
    """The decisions that make sense for ``line`` and that ``user`` may take."""
    choices: list[tuple[str, str]] = []
    for value, label in Resolution.choices:
        if value == Resolution.REFUND and not permissions.can_refund(user):
            continue
        if value == Resolution.APPLY and line.notice_id is None:
            continue
        choices.append((value, str(label)))
    return choices


def resolve(
    line: ReconciliationLine,
    resolution: str,
    note: str,
    *,
    actor: Any,
    request: HttpRequest | None = None,
    other_notice: str = "",
) -> ReconciliationLine:
    """The clerk's decision on an exception. Audited as ``payments.exception_resolved``.

    - ``refund``: a :class:`Refund` by bank transfer (state requested) for the row's
      amount; a payment booked for the row is marked refunded (the instalment reopens
      when it was the one that paid it);
    - ``apply``: book the row to its slip's instalment (a payment is created when the
      row has none; an existing one is kept as it is);
    - ``book_other``: move the money to the slip ``other_notice`` (notice number);
    - ``write_off``: no money moves; the line leaves the queue with the note.
    """
    if not permissions.can_reconcile(actor):
        raise PermissionDenied
    note = (note or "").strip()
    if not note:
        raise ReconcileError(gettext("Write a note that explains the decision."))
    if resolution not in Resolution.values:
        raise ReconcileError(gettext("Choose a decision."))
    if resolution == Resolution.REFUND and not permissions.can_refund(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = ReconciliationLine.objects.select_for_update().get(pk=line.pk)
        if locked.resolution:
            raise ReconcileError(gettext("This exception has already been resolved."))
        if not locked.needs_review:
            raise ReconcileError(gettext("This line needs no decision."))
        details: dict[str, Any] = {
            "file": locked.file_id,
            "line_no": locked.line_no,
            "outcome": locked.outcome,
            "resolution": resolution,
            "note": note,
        }
        if resolution == Resolution.REFUND:
            details.update(_refund(locked, note, actor))
        elif resolution == Resolution.APPLY:
            if locked.notice is None:
                raise ReconcileError(gettext("This line has no slip to apply the money to."))
            details.update(_apply(locked, locked.notice))
        elif resolution == Resolution.BOOK_OTHER:
            target = PaymentNotice.objects.filter(notice_number=other_notice.strip()).first()
            if target is None:
                raise ReconcileError(gettext("No slip has this notice number."))
            details.update(_apply(locked, target))
        locked.resolution = resolution
        locked.resolution_note = note
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(
            update_fields=[
                "resolution",
                "resolution_note",
                "resolved_by",
                "resolved_at",
                "payment",
                "notice",
            ]
        )
        charge = locked.notice.installment.charge if locked.notice is not None else None
        audit.record(
            "payments.exception_resolved",
            request=request,
            actor=actor,
            target=locked,
            subject=charge.resident_id if charge else None,
            details=details,
        )
    return locked


def _amount(line: ReconciliationLine) -> int:
    amount = line.payment.amount_yen if line.payment is not None else line.amount_yen
    if not amount or amount <= 0:
        raise ReconcileError(gettext("This line has no amount: the money cannot be moved."))
    return int(amount)


def _refund(line: ReconciliationLine, note: str, actor: Any) -> dict[str, Any]:
    amount = _amount(line)
    refund = ledger.refund_request(
        line=line,
        amount_yen=amount,
        reason=note,
        actor=actor,
        key=f"recon-line-{line.pk}",
    )
    if line.payment is not None and line.payment.state in ledger.LIVE:
        ledger.mark_refunded(line.payment, amount)
    return {"refund": str(refund.pk), "amount_yen": amount}


def _apply(line: ReconciliationLine, notice: PaymentNotice) -> dict[str, Any]:
    amount = _amount(line)
    payment = line.payment
    if payment is not None and payment.state in ledger.LIVE:
        old = payment.installment_id
        if payment.notice_id != notice.pk:
            payment.notice = notice
            payment.installment_id = notice.installment_id
            payment.save(update_fields=["notice", "installment"])
        ids = [i for i in (old, notice.installment_id) if i]
        ledger.send_paid_signals(ledger.refresh_installments(ids))
    else:
        final = line.booked_on is not None
        payment = ledger.record_payment(
            notice=notice,
            amount_yen=amount,
            channel=line.channel or Channel.CVS,
            state=Payment.State.FINAL if final else Payment.State.PROVISIONAL,
            paid_on=line.paid_on or timezone.localdate(),
            booked_on=line.booked_on,
            store_code=line.store_code,
            source_file=line.file,
        )
    line.payment = payment
    line.notice = notice
    return {"payment": payment.pk, "notice_number": notice.notice_number, "amount_yen": amount}


def refunds_of(line: ReconciliationLine) -> list[Refund]:
    return list(line.refunds.all())
