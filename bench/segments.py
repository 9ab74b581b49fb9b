"""Benchmark: resolving notice segments over Iga's 83,335 synthetic residents.

    uv run python bench/segments.py [--residents 83335] [--repeat 9]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityhall_bench_segments \\
        uv run python bench/segments.py

Database: a fresh SQLite file (WAL) in a temporary ``CITYHALL_DATA_DIR``, or, when
``DATABASE_URL`` (or ``--database-url``) names PostgreSQL, that database — created for
the run and dropped after it (an existing database that already holds residents is
refused, never emptied).

Data (not timed): Iga's areas, districts and departments, ``seed_population(N)`` (the
same people as ``cityhall seed --residents N``), then what a city a year in has: 6 % of
the accounts withdrew their ``notify`` consent after granting it (a later row) and a
fifth of those granted it again; 40 % of those who chose LINE linked it (3 % of the
links since blocked), half of those who chose push have a subscription. Then ANALYZE.

Measured, for each realistic segment (``--repeat`` runs after a warm-up):

- cityhall: ``services.segments.resolve(filters, purpose=…, topic=…)`` — one SQL query,
  the JSON facets in the engine's JSON functions, consent as a correlated subquery on
  the latest row;
- naive (once per segment): every ``ResidentProfile`` loaded as an ORM instance with its
  user and district, the facets checked in Python, and for each match the latest consent
  row read with its own query — what a first loop would do.

Both must give the same ids. Also timed: ``reachable()`` for the everyone segment (with
the synthetic ``*.invalid`` addresses counted as e-mail, as a real city's would be). The
goal is ≤ 1 s per resolve (p50 and max) on both engines. Prints a table; writes
bench/results/segments.json (the latest run per database engine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_db import resolve_database_url, scratch_postgres, setup_django

GOAL_SECONDS = 1.0
RESULTS = Path(__file__).resolve().parent / "results" / "segments.json"


@dataclass
class Scenario:
    name: str
    filters: dict[str, Any]
    purpose: str = "notify"
    topic: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


def _seed(residents: int, seed: int) -> dict[str, Any]:
    """The population, later consent rows, LINE links and push subscriptions (not timed)."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from cityhall.core.seed import load_geography
    from cityhall.notices.models import LineLink, PushSubscription
    from cityhall.people.models import Consent, ResidentProfile
    from cityhall.people.seed import load_departments, seed_population

    call_command("migrate", verbosity=0)
    load_geography()
    load_departments()
    started = time.perf_counter()
    with transaction.atomic():
        report = seed_population(residents, seed=seed)
    seeded = time.perf_counter() - started

    rng = random.Random(f"{seed}:segments")
    later = timezone.now() + dt.timedelta(days=30)
    rows = list(
        ResidentProfile.objects.filter(synthetic=True)
        .order_by("user_id")
        .values_list("user_id", "channels")
    )
    consents: list[Consent] = []
    links: list[LineLink] = []
    pushes: list[PushSubscription] = []
    for user_id, channels in rows:
        if rng.random() < 0.06:
            consents.append(
                Consent(user_id=user_id, purpose="notify", granted=False, created_at=later)
            )
            if rng.random() < 0.2:
                consents.append(
                    Consent(
                        user_id=user_id,
                        purpose="notify",
                        granted=True,
                        created_at=later + dt.timedelta(days=3),
                    )
                )
        if "line" in channels and rng.random() < 0.4:
            links.append(
                LineLink(
                    user_id=user_id,
                    line_user_id=f"U{user_id:032x}",
                    blocked_at=later if rng.random() < 0.03 else None,
                )
            )
        if "push" in channels and rng.random() < 0.5:
            pushes.append(
                PushSubscription(
                    user_id=user_id,
                    endpoint=f"https://push.example.invalid/{user_id}",
                    p256dh="B" * 87,
                    auth="A" * 22,
                )
            )
    with transaction.atomic():
        Consent.objects.bulk_create(consents, batch_size=2000)
        LineLink.objects.bulk_create(links, batch_size=2000)
        PushSubscription.objects.bulk_create(pushes, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "accounts": report.accounts,
        "consent_rows": Consent.objects.count(),
        "later_consent_rows": len(consents),
        "line_links": len(links),
        "push_subscriptions": len(pushes),
        "seconds_to_seed": round(seeded, 1),
    }


def _scenarios() -> list[Scenario]:
    from django.db.models import Count

    from cityhall.core.models import Area, District

    biggest = (
        District.objects.annotate(n=Count("residents"))
        .order_by("-n", "code")
        .values_list("code", flat=True)
    )[0]
    area = Area.objects.order_by("order").values_list("code", flat=True)[0]
    return [
        Scenario(f"one district ({biggest})", {"districts": [biggest]}),
        Scenario(
            f"families, child 0–6, area {area}",
            {"areas": [area], "child_age_min": 0, "child_age_max": 6},
            topic="childcare",
        ),
        Scenario(
            "65+, care at home, interest elderly",
            {"age_min": 65, "care": True, "interests": ["elderly"]},
        ),
        Scenario("foreign residents reading pt-br", {"foreign": True, "languages": ["pt-br"]}),
        Scenario("everyone with notify consent", {}),
        Scenario("everyone, emergency consent", {}, purpose="emergency"),
    ]


def _naive(filters: dict[str, Any], purpose: str, topic: str | None) -> list[int]:
    """Every profile as an ORM instance, facets in Python, the latest consent per match."""
    from django.utils import timezone

    from cityhall.people.models import Consent, ResidentProfile

    year = timezone.localdate().year
    interests = set(filters.get("interests", []))
    channels = set(filters.get("channels", []))
    matched: list[int] = []
    for profile in ResidentProfile.objects.select_related("user", "district__area"):
        user = profile.user
        if not user.is_active or user.is_staff:
            continue
        if filters.get("districts") or filters.get("areas"):
            district = profile.district
            if district is None or not (
                district.code in filters.get("districts", [])
                or district.area.code in filters.get("areas", [])
            ):
                continue
        age = year - profile.birth_year if profile.birth_year else None
        if "age_min" in filters and (age is None or age < filters["age_min"]):
            continue
        if "age_max" in filters and (age is None or age > filters["age_max"]):
            continue
        if "child_age_min" in filters or "child_age_max" in filters:
            low, high = filters.get("child_age_min", 0), filters.get("child_age_max", 999)
            if not any(low <= year - int(y) <= high for y in profile.children_birth_years):
                continue
        if "care" in filters and profile.care_in_household != filters["care"]:
            continue
        if "foreign" in filters and profile.nationality_foreign != filters["foreign"]:
            continue
        if filters.get("languages") and profile.preferred_language not in filters["languages"]:
            continue
        if interests and not interests & set(profile.interests):
            continue
        if topic and topic not in profile.interests:
            continue
        if channels and not channels & set(profile.channels):
            continue
        latest = Consent.objects.filter(user=user, purpose=purpose).first()  # newest first
        if latest is None or not latest.granted:
            continue
        matched.append(user.pk)
    return sorted(matched)


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    fn()  # warm-up
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return times, value


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def run(residents: int, repeat: int, seed: int, database_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-") as data_dir:
        setup_django(data_dir, database_url)
        from django.db import connection

        from cityhall.notices.services import segments

        info = _seed(residents, seed)
        vendor = connection.vendor
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT version()" if vendor == "postgresql" else "SELECT sqlite_version()"
            )
            engine_version = str(cursor.fetchone()[0]).split(" on ")[0]
        results: list[dict[str, Any]] = []
        everyone: list[int] = []
        for scenario in _scenarios():
            filters = segments.Filters.from_dict(scenario.filters)
            times, ids = _timed(
                lambda f=filters, s=scenario: segments.resolve(  # type: ignore[misc]
                    f, purpose=s.purpose, topic=s.topic
                ),
                repeat,
            )
            started = time.perf_counter()
            naive_ids = _naive(scenario.filters, scenario.purpose, scenario.topic)
            naive = time.perf_counter() - started
            p50 = statistics.median(times)
            if scenario.purpose == "notify" and not scenario.filters:
                everyone = ids
            results.append(
                {
                    "segment": scenario.name,
                    "filters": scenario.filters,
                    "purpose": scenario.purpose,
                    "topic": scenario.topic,
                    "matches": len(ids),
                    "p50_ms": _ms(p50),
                    "max_ms": _ms(max(times)),
                    "naive_ms": _ms(naive),
                    "ratio": round(naive / p50, 1) if p50 else None,
                    "same_ids": ids == naive_ids,
                    "meets_goal": max(times) <= GOAL_SECONDS,
                }
            )
        reach_times, reach = _timed(
            lambda: segments.reachable(everyone, include_placeholder_addresses=True), repeat
        )
        emergency_times, emergency = _timed(
            lambda: segments.reachable(
                everyone, emergency=True, include_placeholder_addresses=True
            ),
            repeat,
        )

    import django

    worst = max(r["max_ms"] for r in results)
    return {
        "benchmark": "segments",
        "variant": vendor,
        "database": f"{vendor} {engine_version}",
        "metric": "ms to resolve a segment over the synthetic population (worst max)",
        "value": worst,
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": all(r["meets_goal"] for r in results)
        and max(reach_times + emergency_times) <= GOAL_SECONDS
        and all(r["same_ids"] for r in results),
        "baseline_name": "naive: every ResidentProfile as an ORM instance, facets in Python, "
        "one query for the latest consent of each match",
        "scenarios": results,
        "reachable": {
            "user_ids": len(everyone),
            "pairs": len(reach),
            "p50_ms": _ms(statistics.median(reach_times)),
            "max_ms": _ms(max(reach_times)),
            "emergency_pairs": len(emergency),
            "emergency_p50_ms": _ms(statistics.median(emergency_times)),
            "emergency_max_ms": _ms(max(emergency_times)),
        },
        "residents": residents,
        "repeat": repeat,
        "seed": seed,
        **info,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "platform": platform.platform(),
            "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def table(result: dict[str, Any]) -> str:
    header = ("segment", "matches", "p50 ms", "max ms", "naive ms", "ratio", "same ids")
    rows = [
        (
            r["segment"] + ("" if r["purpose"] == "notify" else f" [{r['purpose']}]"),
            f"{r['matches']:,}",
            f"{r['p50_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            f"{r['naive_ms']:.0f}",
            f"{r['ratio']:.0f}×" if r["ratio"] else "—",
            "yes" if r["same_ids"] else "NO",
        )
        for r in result["scenarios"]
    ]
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [
        f"segments on {result['database']}: {result['accounts']:,} accounts "
        f"({result['residents']:,} persons), {result['consent_rows']:,} consent rows, "
        f"{result['line_links']:,} LINE links, {result['push_subscriptions']:,} push "
        f"subscriptions; {result['repeat']} runs per segment",
        line.format(*header),
        "-" * (sum(widths) + 2 * (len(widths) - 1)),
    ]
    out += [line.format(*row) for row in rows]
    reach = result["reachable"]
    out.append(
        f"reachable(): {reach['user_ids']:,} residents → {reach['pairs']:,} (user, channel) pairs, "
        f"p50 {reach['p50_ms']:.1f} ms, max {reach['max_ms']:.1f} ms; emergency "
        f"{reach['emergency_pairs']:,} pairs, p50 {reach['emergency_p50_ms']:.1f} ms, "
        f"max {reach['emergency_max_ms']:.1f} ms"
    )
    out.append(
        f"goal ≤ {result['goal_seconds']:.0f} s per resolve and reachable, same ids as naive: "
        f"{'met' if result['meets_goal'] else '✗ MISSED'}"
    )
    m = result["machine"]
    out.append(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, Django {m['django']}, "
        f"load {m['load_average_1m']}; seeding took {result['seconds_to_seed']} s (not timed)"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=83335, help="persons to seed (83335)")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per segment (9)")
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
            holds_data_table="people_residentprofile",
            what="residents",
            example="cityhall_bench_segments",
        ):
            result = run(args.residents, args.repeat, args.seed, url)
    elif url:
        raise SystemExit("DATABASE_URL: only PostgreSQL (or nothing, for SQLite) is supported")
    else:
        result = run(args.residents, args.repeat, args.seed, "")
    print(table(result))
    from bench_results import keep_latest_run

    keep_latest_run("segments", result, args.output, goal_seconds=GOAL_SECONDS)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
