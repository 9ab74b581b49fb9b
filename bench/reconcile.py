"""Benchmark: reconciling a collection agent's file of 1,000,000 rows against 1,000,000 open slips.

    uv run python bench/reconcile.py [--rows 1000000] [--naive-rows 5000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityhall_bench_reconcile \\
        uv run python bench/reconcile.py

Database: a fresh SQLite file (WAL) in a temporary ``CITYHALL_DATA_DIR``, or, when
``DATABASE_URL`` (or ``--database-url``) names PostgreSQL, that database — created for the
run and dropped after it (an existing database that already holds payments is refused).

Data (not timed): one kind of public money, ``--rows`` open charges with one installment
and one active slip each (a valid 44-digit barcode, notice number, check number), written
with ``COPY`` on PostgreSQL and ``executemany`` on SQLite; then ANALYZE. The agent file
(CP932 CSV, the spec's 13 columns) has ``--rows`` rows in this mix: 60 % 01 速報 for
distinct slips, 30 % 02 確報 of those same slips later in the file, 5 % 02 without a 01,
2 % 03 cancelling a 01, 1 % the same slip paid twice, 1 % amount mismatch, 0.5 % unknown
barcode, 0.5 % malformed — i.e. every outcome the clerk can meet, in realistic shares.

Measured, in a fresh child process (so that the peak memory is the import's, not the
seeding's): ``services.reconcile.import_collection_file("agent", data, …)`` — hash, parse,
match, write 1M lines and the payments, promote, reverse, recompute the installments and
slips, audit: everything, in one transaction. Peak memory is the child's ``VmHWM``
(Django loaded + the file's bytes + the import; ``ru_maxrss`` would keep the seeding
parent's peak across ``exec``).

Baseline, in the same child, after the import: the naive row-by-row ORM loop a first
version would write (per row: read the slip by barcode with its installment, create or
update the Payment, save the installment and the slip, create the line; one transaction)
over ``--naive-rows`` rows of a second file with the same mix against a second set of
slips; its time is **extrapolated** linearly to ``--rows``.

Goals: ≤ 30 s and ≤ 1 GB for 1,000,000 rows on PostgreSQL, and ≥ 20× the naive loop.
Prints a table; writes bench/results/reconcile.json (latest run per engine).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_db import resolve_database_url, scratch_postgres, setup_django

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "reconcile.json"
GOAL_SECONDS = 30.0
GOAL_RATIO = 20.0
GOAL_MB = 1024.0
COMPANY = "912345"
STORES = (
    ("010", "セブン-イレブン"),
    ("020", "ローソン"),
    ("030", "ファミリーマート"),
    ("820", "PayPay"),
)


# --- data -------------------------------------------------------------------------------------


def _barcode(serial: int, amount: int) -> str:
    from cityhall.payments.codes import cvs

    body = f"91{COMPANY}{serial:021d}0999999" + f"0{amount:06d}"
    return body + str(cvs.check_digit(body))


def _rows_for(model: Any, overrides: list[str]) -> tuple[list[str], list[Any]]:
    """Columns of ``model`` (with the id) and each default, prepared for the database."""
    from django.db import connection

    columns, defaults = [], []
    for f in model._meta.concrete_fields:
        columns.append(f.column)
        default = None if f.primary_key else f.get_default()
        if f.attname in overrides or default is None:
            defaults.append(None)  # set per row (or NULL)
        else:
            defaults.append(f.get_db_prep_save(default, connection))
    return columns, defaults


def _write(model: Any, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("%s" for _ in columns)
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 20_000:
                    cursor.executemany(insert, batch)
                    batch = []
            if batch:
                cursor.executemany(insert, batch)


def seed(count: int, first: int) -> list[tuple[str, int]]:
    """``count`` open charges/installments/slips with ids from ``first``; (barcode, amount)."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from cityhall.payments.models import Charge, Installment, PaymentKind, PaymentNotice
    from cityhall.people.models import Department

    department, _ = Department.objects.get_or_create(code="zeimu", defaults={"name": "税務課"})
    kind, _ = PaymentKind.objects.get_or_create(
        code="kojin-juminzei",
        defaults={
            "name": "個人住民税",
            "tax_code": "011",
            "department": department,
            "account_code": "01-01-01-01",
        },
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    due = dt.date(2026, 6, 30)
    rng = random.Random(first)
    amounts = [rng.randrange(1_000, 200_000) for _ in range(count)]
    slips = [(_barcode(first + i, amounts[i]), amounts[i]) for i in range(count)]
    with transaction.atomic():
        cols, base = _rows_for(
            Charge,
            ["id", "kind", "reference", "payer_key", "payer_name", "total_yen", "created_at"],
        )
        idx = {c: i for i, c in enumerate(cols)}

        def charges() -> Iterator[tuple[Any, ...]]:
            for i in range(count):
                row = list(base)
                row[idx["id"]] = first + i
                row[idx["kind_id"]] = kind.pk
                row[idx["fiscal_year"]] = 2026
                row[idx["tax_year"]] = 2026
                row[idx["reference"]] = f"{first + i:010d}"
                row[idx["payer_key"]] = f"{first + i:012d}"
                row[idx["payer_name"]] = "伊賀 太郎"
                row[idx["total_yen"]] = amounts[i]
                row[idx["created_at"]] = now
                yield tuple(row)

        _write(Charge, cols, charges())
        cols, base = _rows_for(Installment, ["id", "charge", "period", "amount_yen", "due_date"])
        idx = {c: i for i, c in enumerate(cols)}

        def installments() -> Iterator[tuple[Any, ...]]:
            for i in range(count):
                row = list(base)
                row[idx["id"]] = first + i
                row[idx["charge_id"]] = first + i
                row[idx["period"]] = 1
                row[idx["amount_yen"]] = amounts[i]
                row[idx["due_date"]] = due
                yield tuple(row)

        _write(Installment, cols, installments())
        cols, base = _rows_for(PaymentNotice, ["id", "installment", "notice_number"])
        idx = {c: i for i, c in enumerate(cols)}

        def notices() -> Iterator[tuple[Any, ...]]:
            for i in range(count):
                row = list(base)
                row[idx["id"]] = first + i
                row[idx["installment_id"]] = first + i
                row[idx["notice_number"]] = f"2026{first + i:016d}"
                row[idx["check_number"]] = f"{(first + i) * 7919 % 1_000_000:06d}"
                row[idx["amount_yen"]] = amounts[i]
                row[idx["due_date"]] = due
                row[idx["pay_by"]] = due
                row[idx["elqr_payload"]] = "0" * 255
                row[idx["cvs_barcode"]] = slips[i][0]
                row[idx["status"]] = "active"
                row[idx["issued_at"]] = now
                yield tuple(row)

        _write(PaymentNotice, cols, notices())
    _reset_sequences()
    return slips


def _reset_sequences() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from cityhall.payments.models import Charge, Installment, PaymentNotice

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Charge, Installment, PaymentNotice]
        ):
            cursor.execute(statement)


def agent_file(slips: list[tuple[str, int]], rows: int, seed_value: int) -> bytes:
    """An agent file of ``rows`` rows over ``slips`` in the mix of the module's docstring."""
    from cityhall.payments.reconciliation.agent_csv import HEADER

    rng = random.Random(seed_value)
    order = list(range(len(slips)))
    rng.shuffle(order)
    share = {
        k: int(rows * v)
        for k, v in {
            "dup": 0.01,
            "mismatch": 0.01,
            "unknown": 0.005,
            "malformed": 0.005,
            "cancel": 0.02,
            "final_only": 0.05,
            "pair": 0.30,
        }.items()
    }
    singles = (
        rows - 2 * share["pair"] - 2 * share["cancel"] - share["final_only"] - share["dup"] * 2
    )
    singles -= share["mismatch"] + share["unknown"] + share["malformed"]
    take = iter(order)
    events: list[tuple[str, int, int]] = []  # (kind, slip index, amount delta)
    for _ in range(share["pair"]):
        i = next(take)
        events += [("01", i, 0), ("02", i, 0)]
    for _ in range(share["cancel"]):
        i = next(take)
        events += [("01", i, 0), ("03", i, 0)]
    for _ in range(share["dup"]):
        i = next(take)
        events += [("01", i, 0), ("01", i, 0)]
    for _ in range(share["final_only"]):
        events.append(("02", next(take), 0))
    for _ in range(share["mismatch"]):
        events.append(("01", next(take), -1))
    for _ in range(max(singles, 0)):
        events.append(("01", next(take), 0))
    # Spread the pairs: each 01 before its 02/03 (sort by a random time, 01 first).
    stamped = []
    for kind, i, delta in events:
        t = rng.random()
        stamped.append((t if kind == "01" else 1.0 + t, kind, i, delta))
    stamped.sort()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for _t, kind, i, delta in stamped:
        barcode, amount = slips[i]
        store = STORES[i % len(STORES)]
        booked = "20260617" if kind == "02" else ""
        writer.writerow(
            [
                kind,
                "20260610",
                "1234",
                f"EAN{barcode}",
                "",
                "",
                "0",
                amount + delta,
                store[0],
                store[1],
                f"{i % 99999:06d}",
                booked,
                "20260611",
            ]
        )
    for n in range(share["unknown"]):
        code = _barcode(900_000_000 + n, 1000)
        writer.writerow(
            [
                "01",
                "20260610",
                "1234",
                f"EAN{code}",
                "",
                "",
                "0",
                1000,
                "010",
                "セブン-イレブン",
                "000001",
                "",
                "20260611",
            ]
        )
    for _ in range(share["malformed"]):
        writer.writerow(["01", "20261399", "1234", "EAN123", "", "", "0", "x"])
    return out.getvalue().encode("cp932")


# --- the naive loop ---------------------------------------------------------------------------


def naive_import(data: bytes) -> int:
    """What a first version does: one ORM round trip after another, row by row."""
    import datetime as dt

    from django.db import transaction

    from cityhall.payments.models import (
        ImportedFile,
        Installment,
        Payment,
        PaymentNotice,
        ReconciliationLine,
    )

    def date(text: str) -> dt.date | None:
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            return None

    rows = 0
    with transaction.atomic():
        imported = ImportedFile.objects.create(kind="agent", filename="naive.csv", sha256="x" * 64)
        reader = csv.reader(io.StringIO(data.decode("cp932")))
        next(reader)
        for number, row in enumerate(reader, start=2):
            rows += 1
            line = ReconciliationLine(file=imported, line_no=number, raw=",".join(row))
            if len(row) != 13 or not row[7].isdigit() or date(row[1]) is None:
                line.outcome = "malformed"
                line.needs_review = True
                line.save()
                continue
            kind, amount, code = row[0], int(row[7]), row[3][3:]
            notice = (
                PaymentNotice.objects.select_related("installment").filter(cvs_barcode=code).first()
            )
            line.code, line.amount_yen, line.record_kind = code, amount, kind
            if notice is None:
                line.outcome, line.needs_review = "unknown", True
            elif amount != notice.amount_yen:
                line.outcome, line.needs_review, line.notice = "amount_mismatch", True, notice
            else:
                installment: Installment = notice.installment
                line.notice = notice
                if kind == "01":
                    duplicate = installment.status != "open"
                    payment = Payment.objects.create(
                        installment=installment,
                        notice=notice,
                        channel="cvs",
                        state="provisional",
                        amount_yen=amount,
                        paid_on=date(row[1]),
                    )
                    installment.status = "provisional"
                    installment.paid_yen += amount
                    line.outcome = "duplicate" if duplicate else "provisional"
                    line.needs_review = duplicate
                elif kind == "02":
                    payment = (
                        Payment.objects.filter(notice=notice, state="provisional")
                        .order_by("id")
                        .first()
                    )
                    if payment is None:
                        payment = Payment.objects.create(
                            installment=installment,
                            notice=notice,
                            channel="cvs",
                            state="final",
                            amount_yen=amount,
                            paid_on=date(row[1]),
                        )
                        installment.paid_yen += amount
                    payment.state, payment.booked_on = "final", date(row[11])
                    payment.save()
                    installment.status = "paid"
                    line.outcome = "final"
                else:
                    payment = (
                        Payment.objects.filter(notice=notice, state="provisional")
                        .order_by("id")
                        .first()
                    )
                    if payment is not None:
                        payment.state = "reversed"
                        payment.save()
                        installment.status, installment.paid_yen = "open", 0
                    line.outcome = "reversed"
                line.payment = payment
                installment.save()
                notice.status = "paid" if installment.status != "open" else "active"
                notice.save()
            line.save()
    return rows


# --- the measured child -----------------------------------------------------------------------


def _peak_kb() -> int:
    """This process's peak resident memory in KiB: ``VmHWM`` (Linux; reset by ``exec``,
    unlike ``ru_maxrss``, which keeps the parent's peak — the seeding's — across it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(args: argparse.Namespace) -> int:
    setup_django(args.data_dir, args.database_url)
    from django.db import connection

    from cityhall.payments.models import Payment, ReconciliationLine
    from cityhall.payments.services import reconcile

    data = Path(args.child_file).read_bytes()
    naive_data = Path(args.child_naive_file).read_bytes()
    rss_before = _peak_kb()
    profile_to = os.environ.get("BENCH_PROFILE", "")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    imported = reconcile.import_collection_file("agent", data, filename="agent.csv", actor=None)
    seconds = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_to)
    rss = _peak_kb()
    lines = ReconciliationLine.objects.filter(file=imported).count()
    payments = Payment.objects.filter(source_file=imported).count()
    again_start = time.perf_counter()
    again = reconcile.import_collection_file("agent", data, filename="again.csv", actor=None)
    again_seconds = time.perf_counter() - again_start
    start = time.perf_counter()
    naive_rows = naive_import(naive_data)
    naive_seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "engine": connection.vendor,
                "rows": imported.rows,
                "lines": lines,
                "payments": payments,
                "summary": imported.summary,
                "seconds": seconds,
                "reimport_seconds": again_seconds,
                "reimport_same_file": again.pk == imported.pk,
                "peak_rss_mb": rss / 1024,
                "rss_before_import_mb": rss_before / 1024,
                "naive_rows": naive_rows,
                "naive_seconds": naive_seconds,
            }
        )
    )
    return 0


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-reconcile-") as data_dir:
        setup_django(data_dir, url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        slips = seed(args.rows, 1)
        naive_slips = seed(args.naive_rows, args.rows + 1)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        data = agent_file(slips, args.rows, args.seed)
        naive_data = agent_file(naive_slips, args.naive_rows, args.seed + 1)
        seeding = time.perf_counter() - t0
        main_file = Path(data_dir) / "agent.csv"
        naive_file = Path(data_dir) / "naive.csv"
        main_file.write_bytes(data)
        naive_file.write_bytes(naive_data)
        size = len(data)
        del data, naive_data, slips, naive_slips
        connection.close()
        process = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child-file",
                str(main_file),
                "--child-naive-file",
                str(naive_file),
                "--data-dir",
                data_dir,
                "--database-url",
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if process.returncode != 0:
            raise SystemExit(f"the measured child failed:\n{process.stderr[-4000:]}")
        measured = json.loads(process.stdout.strip().splitlines()[-1])
    per_row = measured["naive_seconds"] / max(measured["naive_rows"], 1)
    naive_extrapolated = per_row * measured["rows"]
    ratio = naive_extrapolated / measured["seconds"]
    engine = "PostgreSQL" if measured["engine"] == "postgresql" else "SQLite"
    meets = (
        measured["rows"] >= 1_000_000  # the goals are stated for a million rows
        and measured["seconds"] <= GOAL_SECONDS
        and ratio >= GOAL_RATIO
        and measured["peak_rss_mb"] <= GOAL_MB
    )
    return {
        "variant": measured["engine"],
        "metric": "seconds to import the agent file",
        "value": round(measured["seconds"], 2),
        "goal_seconds": GOAL_SECONDS,
        "goal_ratio": GOAL_RATIO,
        "goal_peak_mb": GOAL_MB,
        "meets_goal": meets,
        "engine": engine,
        "file_bytes": size,
        "rows_per_second": round(measured["rows"] / measured["seconds"]),
        "naive_seconds_per_row_ms": round(per_row * 1000, 3),
        "naive_extrapolated_seconds": round(naive_extrapolated, 1),
        "ratio": round(ratio, 1),
        "seconds_to_seed": round(seeding, 1),
        **{k: v for k, v in measured.items() if k not in ("engine",)},
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
    }


def table(r: dict[str, Any]) -> str:
    head = (
        "engine",
        "rows",
        "import s",
        "rows/s",
        "peak MB",
        "naive ms/row",
        "naive est. s",
        "ratio",
        "goal",
    )
    row = (
        r["engine"],
        f"{r['rows']:,}",
        f"{r['seconds']:.1f}",
        f"{r['rows_per_second']:,}",
        f"{r['peak_rss_mb']:.0f}",
        f"{r['naive_seconds_per_row_ms']:.2f}",
        f"{r['naive_extrapolated_seconds']:,.0f}",
        f"{r['ratio']:.0f}×",
        "met" if r["meets_goal"] else "✗ MISSED",
    )
    widths = [max(len(a), len(b)) for a, b in zip(head, row, strict=True)]
    lines = [
        f"reconcile: agent file of {r['rows']:,} rows ({r['file_bytes'] / 1e6:.0f} MB CP932) "
        f"against {r['rows']:,} open slips on {r['engine']}",
        "  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)),
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)),
        f"outcomes: {r['summary']}",
        f"goals: ≤ {GOAL_SECONDS:.0f} s, ≤ {GOAL_MB:.0f} MB, ≥ {GOAL_RATIO:.0f}× the naive loop; "
        f"naive = row-by-row ORM over {r['naive_rows']:,} rows ({r['naive_seconds']:.1f} s), "
        "extrapolated linearly",
        f"re-import of the same file: {r['reimport_seconds'] * 1000:.0f} ms, same record: "
        f"{r['reimport_same_file']}; seeding took {r['seconds_to_seed']} s (not timed); "
        f"RSS before the import {r['rss_before_import_mb']:.0f} MB",
    ]
    return "\n".join(lines)


def _save(result: dict[str, Any], output: Path) -> None:
    """Keep the latest run per database engine in one file."""
    from bench_results import keep_latest_run

    keep_latest_run("reconcile", result, output, goal_seconds=GOAL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="(1000000)")
    parser.add_argument("--naive-rows", type=int, default=5_000, help="(5000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child-file", help=argparse.SUPPRESS)
    parser.add_argument("--child-naive-file", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_file:
        return child(args)
    url = resolve_database_url(args.database_url)
    if url.startswith(("postgres://", "postgresql://")):
        with scratch_postgres(
            url,
            holds_data_table="payments_payment",
            what="payments",
            example="cityhall_bench_reconcile",
        ):
            result = run(args, url)
    elif url:
        raise SystemExit("DATABASE_URL: only PostgreSQL (or nothing, for SQLite) is supported")
    else:
        result = run(args, "")
    print(table(result))
    _save(result, args.output)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
