"""Benchmark: seed Iga's 83,335 synthetic residents into a fresh SQLite database.

    uv run python bench/seed_population.py [--residents 83335] [--sample 500]

A temporary ``CITYHALL_DATA_DIR`` gets a fresh SQLite database (``DATABASE_URL`` is
ignored); migrating it and loading the geography are not counted. Measured: the wall time
of ``seed_population(N)`` (generation, bulk inserts, commit) and the process's peak
resident memory. Baselines, measured in the same run on the same database:

- naive: one ``User.objects.create`` + ``ResidentProfile.objects.create`` + one
  ``Consent.objects.create`` per consent for every account, each committing on its own
  (what a first loop would do), timed on ``--sample`` accounts and extrapolated;
- bulk_create: Django's ``bulk_create`` of the same rows in one transaction, timed on
  ``--bulk-sample`` accounts and extrapolated.

Rows for the baselines are copies of the seeded ones (other e-mail addresses), so every
approach writes the same data. Prints a table; writes bench/results/seed_population.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_db import setup_django

GOAL_SECONDS = 60.0
RESULTS = Path(__file__).resolve().parent / "results" / "seed_population.json"


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _sample_rows(limit: int) -> list[tuple[dict[str, Any], list[str]]]:
    """Profiles (as field values) and consent purposes of ``limit`` seeded accounts."""
    from cityhall.people.models import Consent, ResidentProfile

    fields = [
        f.attname
        for f in ResidentProfile._meta.concrete_fields
        if f.attname not in {"id", "user_id", "updated_at"}
    ]
    rows = list(
        ResidentProfile.objects.filter(synthetic=True)
        .order_by("id")
        .values("user_id", *fields)[:limit]
    )
    purposes: dict[int, list[str]] = {}
    for user_id, purpose in Consent.objects.filter(
        user_id__in=[r["user_id"] for r in rows]
    ).values_list("user_id", "purpose"):
        purposes.setdefault(user_id, []).append(purpose)
    return [
        ({k: v for k, v in r.items() if k != "user_id"}, purposes.get(r["user_id"], []))
        for r in rows
    ]


def _naive(rows: list[tuple[dict[str, Any], list[str]]], prefix: str) -> float:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from cityhall.people.models import Consent, ResidentProfile, User

    unusable = make_password(None)
    started = time.perf_counter()
    for number, (profile, purposes) in enumerate(rows):
        now = timezone.now()
        user = User.objects.create(
            email=f"{prefix}-{number:06d}@example.invalid",
            password=unusable,
            email_verified_at=now,
        )
        ResidentProfile.objects.create(user=user, **profile)
        for purpose in purposes:
            Consent.objects.create(user=user, purpose=purpose, granted=True, created_at=now)
    return time.perf_counter() - started


def _bulk_create(rows: list[tuple[dict[str, Any], list[str]]], prefix: str) -> float:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from cityhall.people.models import Consent, ResidentProfile, User

    unusable = make_password(None)
    started = time.perf_counter()
    with transaction.atomic():
        now = timezone.now()
        users = User.objects.bulk_create(
            [
                User(
                    email=f"{prefix}-{n:06d}@example.invalid",
                    password=unusable,
                    email_verified_at=now,
                )
                for n in range(len(rows))
            ],
            batch_size=1000,
        )
        ResidentProfile.objects.bulk_create(
            [ResidentProfile(user=u, **p) for u, (p, _) in zip(users, rows, strict=True)],
            batch_size=1000,
        )
        Consent.objects.bulk_create(
            [
                Consent(user=u, purpose=purpose, granted=True, created_at=now)
                for u, (_, purposes) in zip(users, rows, strict=True)
                for purpose in purposes
            ],
            batch_size=2000,
        )
    return time.perf_counter() - started


def run(residents: int, seed: int, sample: int, bulk_sample: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-") as data_dir:
        setup_django(data_dir, "")  # SQLite: DATABASE_URL is ignored
        from django.core.management import call_command
        from django.db import connection, transaction

        from cityhall.core.seed import load_geography
        from cityhall.people.seed import load_departments, seed_population

        call_command("migrate", verbosity=0)
        load_geography()
        load_departments()
        rss_before = _peak_rss_mib()

        started = time.perf_counter()
        with transaction.atomic():
            report = seed_population(residents, seed=seed)
        elapsed = time.perf_counter() - started
        rss_after = _peak_rss_mib()

        accounts = report.accounts
        naive_rows = _sample_rows(min(sample, accounts))
        naive_seconds = _naive(naive_rows, "naive")
        naive_total = naive_seconds / max(len(naive_rows), 1) * accounts
        bulk_rows = _sample_rows(min(bulk_sample, accounts))
        bulk_seconds = _bulk_create(bulk_rows, "bulk")
        bulk_total = bulk_seconds / max(len(bulk_rows), 1) * accounts
        with connection.cursor() as cursor:
            cursor.execute("select sqlite_version()")
            sqlite_version = cursor.fetchone()[0]

    import django

    return {
        "benchmark": "seed_population",
        "metric": f"seconds to seed {residents} synthetic residents (fresh SQLite)",
        "value": round(elapsed, 2),
        "baseline": round(naive_total, 1),
        "baseline_name": (
            f"naive: create() per row, autocommit ({len(naive_rows)} accounts timed, extrapolated)"
        ),
        "ratio": round(naive_total / elapsed, 1),
        "other_baselines": [
            {
                "name": f"Django bulk_create, one transaction ({len(bulk_rows)} accounts timed, "
                "extrapolated)",
                "seconds": round(bulk_total, 1),
                "ratio": round(bulk_total / elapsed, 2),
            }
        ],
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": elapsed <= GOAL_SECONDS,
        "residents": residents,
        "accounts": accounts,
        "consents": report.consents,
        "households": report.shape["households"],
        "shape": report.shape,
        "seed": seed,
        "rows_per_second": round((accounts * 2 + report.consents) / elapsed),
        "peak_rss_mib": round(rss_after, 1),
        "peak_rss_growth_mib": round(max(rss_after - rss_before, 0.0), 1),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite_version,
            "sqlite_module": sqlite3.sqlite_version,
            "django": django.get_version(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        (
            "seeded",
            f"{result['residents']:,} persons",
            f"{result['accounts']:,} accounts, "
            f"{result['consents']:,} consents, {result['households']:,} households",
        ),
        (
            "time (cityhall)",
            f"{result['value']:.1f} s",
            f"goal ≤ {result['goal_seconds']:.0f} s: {'met' if result['meets_goal'] else 'MISSED'}",
        ),
        ("baseline: naive", f"{result['baseline']:.1f} s", result["baseline_name"]),
        ("ratio (naive / cityhall)", f"{result['ratio']:.1f}×", "higher is better"),
    ]
    for other in result["other_baselines"]:
        rows.append(("baseline: bulk_create", f"{other['seconds']:.1f} s", other["name"]))
        rows.append(("ratio (bulk_create / cityhall)", f"{other['ratio']:.2f}×", ""))
    rows += [
        ("throughput", f"{result['rows_per_second']:,} rows/s", "users + profiles + consents"),
        (
            "peak memory (RSS)",
            f"{result['peak_rss_mib']:.0f} MiB",
            f"+{result['peak_rss_growth_mib']:.0f} MiB while seeding",
        ),
    ]
    m = result["machine"]
    rows.append(
        (
            "machine",
            f"{m['cpu_count']} CPUs",
            f"Python {m['python']}, SQLite "
            f"{m['sqlite']}, Django {m['django']}, load {m['load_average_1m']}",
        )
    )
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [
        f"{'metric':<{width}}  {'value':>{value_width}}  notes",
        "-" * (width + value_width + 40),
    ]
    lines += [f"{a:<{width}}  {b:>{value_width}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=83335, help="Persons to seed (83335).")
    parser.add_argument("--seed", type=int, default=2004, help="Random seed (2004).")
    parser.add_argument(
        "--sample", type=int, default=500, help="Accounts timed for the naive baseline (500)."
    )
    parser.add_argument(
        "--bulk-sample",
        type=int,
        default=10000,
        help="Accounts timed for the bulk_create baseline (10000).",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="Where to write the JSON.")
    args = parser.parse_args(argv)
    result = run(args.residents, args.seed, args.sample, args.bulk_sample)
    print(table(result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
