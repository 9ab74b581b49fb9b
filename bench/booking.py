"""Benchmark: 64 residents booking the same few times at once — no overbooking.

    uv run python bench/booking.py [--clients 64] [--slots 8] [--capacity 4] [--rounds 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityhall_bench_booking \\
        uv run python bench/booking.py

Database: a fresh SQLite file (WAL, writers take the lock at BEGIN) in a temporary
``CITYHALL_DATA_DIR``, or, when ``DATABASE_URL`` (or ``--database-url``) names PostgreSQL,
that database — created for the run and dropped after it (an existing database that
already holds booking slots is refused, never emptied).

Data (not timed): one booking service and place, ``--slots`` slots of ``--capacity``
places each, starting in three days, and ``--clients`` residents (placeholder
addresses: no e-mail is sent).

Measured, per round (``--rounds``, the table shows the median round): ``--clients``
threads, each with its own database connection, start together behind a barrier; each
tries to book every slot once, in its own random order:

- cityhall: ``services.bookings.book`` — one conditional
  ``UPDATE … SET booked = booked + 1 WHERE booked < capacity`` whose row count decides,
  inside the transaction with the booking row and the audit entry;
- naive (baseline, same run, same clients): read ``booked`` (SELECT), and if it is below
  the capacity write ``booked = read + 1`` and create the booking — read-check-then-write.

After each round the bench checks: no slot has more active bookings than places, and
(cityhall) every place was taken exactly once (``booked`` equals the bookings). Reported:
attempts, successes, refusals, overbooked places, bookings/s, p50/p95 latency per attempt.
The goal: zero overbooking and every place taken exactly once for cityhall (the naive
figure shows why the conditional UPDATE is needed). Prints a table; writes
bench/results/booking.json (the latest run per database engine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_db import resolve_database_url, scratch_postgres, setup_django

RESULTS = Path(__file__).resolve().parent / "results" / "booking.json"


def _seed(clients: int) -> tuple[Any, list[Any]]:
    from django.core.management import call_command

    from cityhall.inquiries.models import BookingService, Place
    from cityhall.people.models import Department, ResidentProfile, User

    call_command("migrate", verbosity=0)
    department, _ = Department.objects.get_or_create(
        code="shimin-seikatsu", defaults={"name": "市民生活課"}
    )
    service, _ = BookingService.objects.get_or_create(
        slug="bench-raicho",
        defaults={
            "kind": "counter",
            "department": department,
            "names": {"ja": "来庁予約"},
            "minutes": 15,
            "cutoff_hours": 2,
        },
    )
    Place.objects.get_or_create(code="bench-honcho", defaults={"names": {"ja": "本庁"}})
    residents = []
    for i in range(clients):
        user, created = User.objects.get_or_create(email=f"bench-booking-{i}@residents.invalid")
        if created:
            ResidentProfile.objects.create(user=user, preferred_language="ja")
        residents.append(user)
    return service, residents


def _make_slots(service: Any, count: int, capacity: int, round_no: int) -> list[int]:
    from django.utils import timezone

    from cityhall.inquiries.models import Place, Slot

    place = Place.objects.get(code="bench-honcho")
    base = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    base += dt.timedelta(days=round_no)
    slots = Slot.objects.bulk_create(
        [
            Slot(
                service=service,
                place=place,
                starts_at=base + dt.timedelta(minutes=15 * i),
                ends_at=base + dt.timedelta(minutes=15 * (i + 1)),
                capacity=capacity,
            )
            for i in range(count)
        ]
    )
    return [s.pk for s in Slot.objects.filter(pk__in=[s.pk for s in slots]).order_by("pk")] or [
        s.pk for s in Slot.objects.filter(service=service, starts_at__gte=base).order_by("pk")
    ]


def naive_book(slot_id: int, resident: Any) -> bool:
    """The baseline: read, check, then write (no condition in the UPDATE)."""
    from cityhall.inquiries.models import Booking, Slot
    from cityhall.inquiries.services.bookings import new_reference

    slot = Slot.objects.get(pk=slot_id)
    if slot.booked >= slot.capacity:
        return False
    Slot.objects.filter(pk=slot_id).update(booked=slot.booked + 1)
    Booking.objects.create(reference=new_reference(), slot_id=slot_id, resident=resident)
    return True


def cityhall_book(slot_id: int, resident: Any) -> bool:
    from cityhall.inquiries.services import bookings

    try:
        bookings.book(slot_id, resident, notify=False)
    except bookings.BookingError:
        return False
    return True


def _round(
    book: Callable[[int, Any], bool], residents: list[Any], slot_ids: list[int], seed: int
) -> dict[str, Any]:
    from django.db import connection

    barrier = threading.Barrier(len(residents) + 1)
    latencies: list[list[float]] = [[] for _ in residents]
    results: list[list[bool]] = [[] for _ in residents]
    errors: list[str] = []

    def client(index: int) -> None:
        order = list(slot_ids)
        random.Random(seed * 1000 + index).shuffle(order)
        try:
            barrier.wait()
            for slot_id in order:
                started = time.perf_counter()
                try:
                    ok = book(slot_id, residents[index])
                except Exception as error:  # a database error is a refusal, reported
                    errors.append(type(error).__name__)
                    ok = False
                latencies[index].append(time.perf_counter() - started)
                results[index].append(ok)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(residents))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for row in latencies for x in row)
    successes = sum(sum(row) for row in results)
    return {
        "attempts": len(flat),
        "successes": successes,
        "refusals": len(flat) - successes,
        "errors": len(errors),
        "seconds": elapsed,
        "bookings_per_s": successes / elapsed if elapsed else 0.0,
        "attempts_per_s": len(flat) / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * flat[len(flat) // 2],
        "p95_ms": 1000 * flat[min(len(flat) - 1, int(len(flat) * 0.95))],
    }


def _check(slot_ids: list[int]) -> dict[str, int]:
    from django.db.models import Count, Q

    from cityhall.inquiries.models import Slot

    overbooked = 0
    mismatched = 0
    places = 0
    for slot in Slot.objects.filter(pk__in=slot_ids).annotate(
        taken=Count("bookings", filter=Q(bookings__status="booked"))
    ):
        places += slot.capacity
        overbooked += max(slot.taken - slot.capacity, 0)  # type: ignore[attr-defined]
        mismatched += int(slot.taken != slot.booked)  # type: ignore[attr-defined]
    return {"overbooked": overbooked, "counter_mismatch": mismatched, "places": places}


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-") as data_dir:
        setup_django(data_dir, database_url)
        import django
        from django.db import connection

        service, residents = _seed(args.clients)
        vendor = connection.vendor
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT version()" if vendor == "postgresql" else "SELECT sqlite_version()"
            )
            engine_version = str(cursor.fetchone()[0]).split(" on ")[0]
        rounds: dict[str, list[dict[str, Any]]] = {"cityhall": [], "naive": []}
        round_no = 0
        for r in range(args.rounds):
            for name, fn in (("cityhall", cityhall_book), ("naive", naive_book)):
                slot_ids = _make_slots(service, args.slots, args.capacity, round_no)
                round_no += 1
                outcome = _round(fn, residents, slot_ids, args.seed + r)
                outcome.update(_check(slot_ids))
                rounds[name].append(outcome)
        connection.close()

        def median_round(name: str) -> dict[str, Any]:
            runs = sorted(rounds[name], key=lambda x: x["bookings_per_s"])
            return dict(runs[len(runs) // 2])

        real, naive = median_round("cityhall"), median_round("naive")
        exact = all(
            x["overbooked"] == 0 and x["counter_mismatch"] == 0 and x["successes"] == x["places"]
            for x in rounds["cityhall"]
        )
        return {
            "variant": vendor,
            "metric": "attempts_per_s",
            "database": f"{vendor} {engine_version}",
            "clients": args.clients,
            "slots": args.slots,
            "capacity": args.capacity,
            "rounds": args.rounds,
            "cityhall": real,
            "naive": naive,
            "naive_overbooked_all_rounds": sum(x["overbooked"] for x in rounds["naive"]),
            "cityhall_overbooked_all_rounds": sum(x["overbooked"] for x in rounds["cityhall"]),
            "ratio": real["attempts_per_s"] / naive["attempts_per_s"]
            if naive["attempts_per_s"]
            else None,
            "meets_goal": exact,
            "machine": {
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "django": django.get_version(),
                "load_average_1m": round(os.getloadavg()[0], 2)
                if hasattr(os, "getloadavg")
                else None,
            },
        }


def table(result: dict[str, Any]) -> str:
    header = (
        "implementation",
        "attempts",
        "successes",
        "refusals",
        "overbooked",
        "bookings/s",
        "attempts/s",
        "p50 ms",
        "p95 ms",
    )
    rows = []
    for name in ("cityhall", "naive"):
        r = result[name]
        rows.append(
            (
                name if name == "naive" else "cityhall (conditional UPDATE)",
                f"{r['attempts']:,}",
                f"{r['successes']:,}",
                f"{r['refusals']:,}",
                f"{r['overbooked']:,}",
                f"{r['bookings_per_s']:.0f}",
                f"{r['attempts_per_s']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
            )
        )
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    places = result["slots"] * result["capacity"]
    out = [
        f"booking on {result['database']}: {result['clients']} concurrent clients, "
        f"{result['slots']} slots × {result['capacity']} places = {places} places; "
        f"median of {result['rounds']} rounds",
        line.format(*header),
        "-" * (sum(widths) + 2 * (len(widths) - 1)),
        *[line.format(*row) for row in rows],
    ]
    ratio = result["ratio"]
    out.append(
        f"ratio cityhall / naive (attempts/s, the same work): {ratio:.2f}×" if ratio else "ratio: —"
    )
    out.append(
        f"overbooked places over all rounds: cityhall {result['cityhall_overbooked_all_rounds']}, "
        f"naive {result['naive_overbooked_all_rounds']}"
    )
    out.append(
        "goal: no overbooking, every place taken exactly once: "
        + ("met" if result["meets_goal"] else "✗ MISSED")
    )
    m = result["machine"]
    out.append(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, Django {m['django']}, "
        f"load {m['load_average_1m']}"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (64)")
    parser.add_argument("--slots", type=int, default=8, help="slots booked at once (8)")
    parser.add_argument("--capacity", type=int, default=4, help="places per slot (4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per implementation (3)")
    parser.add_argument("--seed", type=int, default=2004, help="random seed (2004)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL scratch database (default: $DATABASE_URL; empty: SQLite)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    url = resolve_database_url(args.database_url)
    if url.startswith(("postgres://", "postgresql://")):
        with scratch_postgres(
            url,
            holds_data_table="inquiries_slot",
            what="booking slots",
            example="cityhall_bench_booking",
        ):
            result = run(args, url)
    elif url:
        raise SystemExit("DATABASE_URL: only PostgreSQL (or nothing, for SQLite) is supported")
    else:
        result = run(args, "")
    print(table(result))
    from bench_results import keep_latest_run

    keep_latest_run("booking", result, args.output)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
