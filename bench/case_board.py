"""Benchmark: the staff case board's list with 100,000 applications across 10 departments.

    uv run python bench/case_board.py [--applications 100000] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityhall_bench_board \\
        uv run python bench/case_board.py

Database: a fresh SQLite file (WAL) in a temporary ``CITYHALL_DATA_DIR``, or, when
``DATABASE_URL`` (or ``--database-url``) names PostgreSQL, that database — created for
the run and dropped after it (an existing database that already holds applications is
refused, never emptied). Settings: ``cityhall.settings`` with DEBUG off.

Data (not timed): Iga's departments, 10 of them with applications in a realistic
skew (市民生活課 gets 22 %), 5 procedures each with a published form, 40 clerks,
8,000 residents, and ``--applications`` applications written with ``bulk_create``:
status mix of a city a year or two in (about 38 % open), submission times over two
years, SLA due dates in working days, 60 % assigned, 20 % made at the counter, the
answers (about 0.5 KB of JSON) and the applicant's name encrypted as the app stores
them. Then ANALYZE (VACUUM ANALYZE on PostgreSQL), as a maintained database has
statistics.

Measured, for each scenario (``--requests`` each after a warm-up, in rounds that visit
every scenario in turn, so that a busy moment of a shared machine hits them all alike):

- page: ``GET /staff/cases/?…`` through Django's test client, logged in as a clerk of
  the busiest department with a TOTP-verified session — middleware, session, the
  board's service (which also writes the audit entry), the template, everything;
- query: ``services.cases.board(...)`` alone (the count, the page's rows, the audit entry).

Baselines, in the same run, on the same data:

- naive: what a first Django list view does — ``select_related`` rows with every column
  (the encrypted answers decrypted, as loading the model does), ``COUNT(*)`` over every
  match for the paginator, ``OFFSET`` paging — over a copy of the table without any
  index (``CREATE TABLE … AS SELECT``), with the board's own WHERE clause;
  ``--naive-requests`` each;
- naive, indexed: the same queries on the real table with its indexes.

The goal is p95 ≤ 200 ms for the page on SQLite and on PostgreSQL. Prints a table;
writes bench/results/case_board.json (one entry per database engine, the latest run).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_db import resolve_database_url, scratch_postgres, setup_django

GOAL_MS = 200.0
RESULTS = Path(__file__).resolve().parent / "results" / "case_board.json"
NAIVE_TABLE = "bench_naive_application"
DEPARTMENTS = (  # code, share of the applications (per cent)
    ("shimin-seikatsu", 22),
    ("zeimu", 14),
    ("hoken-nenkin", 12),
    ("kosodate-shien", 10),
    ("hoiku-yochien", 9),
    ("kaigo-korei", 9),
    ("shogai-fukushi", 8),
    ("kenko-suishin", 7),
    ("kankyo-seisaku", 5),
    ("gakko-kyoiku", 4),
)
STATUS_MIX = (  # status, weight
    ("submitted", 9),
    ("received", 8),
    ("in_review", 15),
    ("needs_info", 6),
    ("approved", 50),
    ("rejected", 5),
    ("withdrawn", 4),
    ("draft", 3),
)
PROCEDURES_PER_DEPARTMENT = 5
CLERKS_PER_DEPARTMENT = 4
RESIDENTS = 8000
SPEC = {
    "title": {"ja": "申請書"},
    "steps": [
        {
            "key": "applicant",
            "title": {"ja": "申請者"},
            "fields": [
                {"key": "name", "type": "name", "label": {"ja": "氏名"}},
                {"key": "birthdate", "type": "date", "label": {"ja": "生年月日"}},
                {"key": "postal_code", "type": "postal_code", "label": {"ja": "郵便番号"}},
                {"key": "address", "type": "address", "label": {"ja": "住所"}},
                {"key": "phone", "type": "phone", "label": {"ja": "電話番号"}},
                {"key": "email", "type": "email", "label": {"ja": "メール"}},
            ],
        },
        {
            "key": "details",
            "title": {"ja": "内容"},
            "fields": [
                {
                    "key": "reason",
                    "type": "choice",
                    "label": {"ja": "理由"},
                    "choices": [
                        {"value": "new", "label": {"ja": "新規"}},
                        {"value": "change", "label": {"ja": "変更"}},
                    ],
                },
                {"key": "count", "type": "number", "label": {"ja": "部数"}},
                {"key": "notes", "type": "textarea", "required": False, "label": {"ja": "備考"}},
                {"key": "agree", "type": "consent", "label": {"ja": "同意する"}},
            ],
        },
    ],
}
FAMILY = ("伊賀", "上野", "服部", "中井", "福田", "森", "山本", "田中", "松本", "岡本")
GIVEN = ("花子", "太郎", "美咲", "健太", "陽菜", "翔", "さくら", "大輝", "結衣", "蓮")


# --- setup ------------------------------------------------------------------------------------


def _seed(applications: int, seed: int) -> dict[str, Any]:
    """Departments, procedures, staff, residents and the applications (bulk, not timed)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cityhall.core.seed import load_geography
    from cityhall.people.models import Department, Role, StaffAssignment, User
    from cityhall.people.seed import load_departments
    from cityhall.procedures.models import (
        FINAL_STATUSES,
        Application,
        FormDefinition,
        FormVersion,
        Procedure,
    )
    from cityhall.procedures.services import applications as app_services
    from cityhall.procedures.services import cases

    rng = random.Random(seed)
    load_geography()
    load_departments()
    departments = {d.code: d for d in Department.objects.filter(code__in=dict(DEPARTMENTS))}
    unusable = make_password(None)
    now = timezone.now()
    with transaction.atomic():
        procedures: dict[str, list[Procedure]] = {}
        for code, _share in DEPARTMENTS:
            procedures[code] = []
            for n in range(PROCEDURES_PER_DEPARTMENT):
                procedure = Procedure.objects.create(
                    slug=f"{code}-{n}",
                    department=departments[code],
                    category="residence",
                    texts={"title": {"ja": f"{departments[code].name}の手続き{n + 1}"}},
                    sla_days=rng.choice((5, 10, 14, 20, 30)),
                )
                definition = FormDefinition.objects.create(procedure=procedure, draft=SPEC)
                FormVersion.objects.create(definition=definition, number=1, spec=SPEC)
                procedures[code].append(procedure)
        clerks: dict[str, list[int]] = {}
        for code, _share in DEPARTMENTS:
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"clerk{n}.{code}@city.iga.example",
                        display_name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                        password=unusable,
                        is_staff=True,
                    )
                    for n in range(CLERKS_PER_DEPARTMENT)
                ]
            )
            StaffAssignment.objects.bulk_create(
                [
                    StaffAssignment(user=u, department=departments[code], role=Role.CLERK)
                    for u in users
                ]
            )
            clerks[code] = [u.pk for u in users]
        residents = User.objects.bulk_create(
            [
                User(email=f"resident{n:05d}@example.invalid", password=unusable)
                for n in range(RESIDENTS)
            ],
            batch_size=2000,
        )
        admin = User.objects.create_user(
            email="admin@city.iga.example", password=None, is_staff=True
        )
        StaffAssignment.objects.create(
            user=admin, department=departments[DEPARTMENTS[0][0]], role=Role.ADMIN
        )
        for user_id in (clerks[DEPARTMENTS[0][0]][0], admin.pk):
            TOTPDevice.objects.create(user_id=user_id, name="default", confirmed=True)

    versions = dict(FormVersion.objects.values_list("definition__procedure_id", "id"))
    codes = [code for code, _ in DEPARTMENTS]
    shares = [share for _, share in DEPARTMENTS]
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    resident_ids = [r.pk for r in residents]
    due_cache: dict[tuple[int, dt.date], dt.date] = {}
    batch: list[Application] = []
    started = time.perf_counter()
    with transaction.atomic():
        for number in range(1, applications + 1):
            code = rng.choices(codes, shares)[0]
            procedure = rng.choice(procedures[code])
            status = rng.choices(statuses, weights)[0]
            # Open ones are recent; decided ones spread over two years.
            age_days = rng.uniform(0, 45) if status in cases.OPEN_STATUSES else rng.uniform(0, 730)
            submitted = now - dt.timedelta(days=age_days, seconds=rng.randint(0, 86399))
            day = timezone.localtime(submitted).date()
            key = (procedure.sla_days, day)
            if key not in due_cache:
                due_cache[key] = cases.due_date_for(procedure, submitted)
            name = f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
            draft = status == "draft"
            batch.append(
                Application(
                    id=number,
                    reference=None
                    if draft
                    else app_services.reference_for(number, timezone.localtime(submitted).year),
                    procedure_id=procedure.pk,
                    department_id=procedure.department_id,
                    version_id=versions[procedure.pk],
                    applicant_id=rng.choice(resident_ids),
                    via="counter" if rng.random() < 0.2 else "online",
                    status=status,
                    data={
                        "name": {
                            "family": name.split()[0],
                            "given": name.split()[1],
                            "family_kana": "イガ",
                            "given_kana": "ハナコ",
                        },
                        "birthdate": (
                            dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 24000))
                        ).isoformat(),
                        "postal_code": "518-8501",
                        "address": f"三重県伊賀市四十九町{rng.randint(1, 4000)}番地",
                        "phone": f"0595-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                        "email": f"r{number}@example.invalid",
                        "reason": rng.choice(("new", "change")),
                        "count": rng.randint(1, 3),
                        "notes": "よろしくお願いします。" if rng.random() < 0.3 else "",
                        "agree": True,
                    },
                    applicant_name="" if draft else name,
                    assignee_id=rng.choice(clerks[code])
                    if not draft and rng.random() < 0.6
                    else None,
                    language="ja",
                    created_at=submitted,
                    submitted_at=None if draft else submitted,
                    due_date=None if draft else due_cache[key],
                    decided_at=submitted + dt.timedelta(days=rng.uniform(1, 20))
                    if status in FINAL_STATUSES
                    else None,
                )
            )
            if len(batch) == 2000:
                Application.objects.bulk_create(batch)
                batch = []
        if batch:
            Application.objects.bulk_create(batch)
    seeding = time.perf_counter() - started
    _reset_sequence()
    return {
        "clerk_id": clerks[DEPARTMENTS[0][0]][0],
        "admin_id": admin.pk,
        "department_id": departments[DEPARTMENTS[0][0]].pk,
        "procedure_id": procedures[DEPARTMENTS[0][0]][0].pk,
        "seconds_to_seed": round(seeding, 1),
    }


def _reset_sequence() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from cityhall.procedures.models import Application

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Application]):
            cursor.execute(statement)


# Index changes to try before proposing them for Application.Meta: --proposed-indexes
# measures the board with these statements applied. The last proposal (status in every
# board index, the id for board order, app_status for administrators) was adopted in
# procedures/migrations/0002_board_indexes.py; add the next one here.
PROPOSED_INDEXES: tuple[str, ...] = ()


def _analyze_and_copy(proposed_indexes: bool) -> None:
    """Statistics for the planner; the naive baseline's copy of the table, without indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        if proposed_indexes:
            for statement in PROPOSED_INDEXES:
                cursor.execute(statement)
        cursor.execute(f"DROP TABLE IF EXISTS {NAIVE_TABLE}")
        cursor.execute(f"CREATE TABLE {NAIVE_TABLE} AS SELECT * FROM procedures_application")  # noqa: S608
        # What autovacuum does on a live PostgreSQL after bulk inserts (statistics and the
        # visibility map that index-only scans need); SQLite keeps its statistics by ANALYZE.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _logged_in_client(user: Any) -> Any:
    """A staff session that passed the password and TOTP steps (as after a real login)."""
    from django.test import Client
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    request = type("R", (), {"session": client.session, "user": user})()
    otp_login(request, TOTPDevice.objects.get(user=user, confirmed=True))
    request.session.save()
    return client


# --- measuring --------------------------------------------------------------------------------


def _ms(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _prepare(
    scenario: dict[str, Any], clerk: Any, admin: Any, clients: dict[bool, Any]
) -> dict[str, Any]:
    """The scenario's URL, user and the four things to time; checks the page is the board."""
    from django.db import connection

    from cityhall.people.models import User
    from cityhall.procedures.services import cases

    is_admin = bool(scenario.get("admin"))
    user = User.objects.get(pk=(admin if is_admin else clerk).pk)  # fresh, as in a request
    kwargs = scenario["kwargs"]
    query = _query_string(kwargs)
    url = "/staff/cases/" + (f"?{query}" if query else "")
    client = clients[is_admin]
    first = client.get(url)
    if first.status_code != 200 or b"board-caption" not in first.content:
        raise SystemExit(f"{url} answered {first.status_code}, not the board")
    naive = _naive_sql(user, kwargs, cases.PER_PAGE)
    return {
        "name": scenario["name"],
        "url": url,
        "user": user,
        "kwargs": kwargs,
        "page": lambda: client.get(url),
        "query": lambda: cases.board(user, **kwargs),
        "naive": _naive_run(NAIVE_TABLE, naive),
        "indexed": _naive_run(connection.ops.quote_name("procedures_application"), naive),
    }


def _measure(
    prepared: list[dict[str, Any]], requests: int, naive_requests: int
) -> list[dict[str, list[float]]]:
    """Rounds over every scenario, so a busy moment of the machine hits all of them alike.

    Each round times one page request and one board() call per scenario; the baselines
    are timed in every ``requests // naive_requests``-th round, interleaved the same way.
    """
    kinds = ("page", "query", "naive", "indexed")
    for item in prepared:  # warm-up
        for kind in kinds:
            item[kind]()
    samples: list[dict[str, list[float]]] = [{k: [] for k in kinds} for _ in prepared]
    step = max(1, requests // max(1, naive_requests))
    for number in range(requests):
        for item, out in zip(prepared, samples, strict=True):
            out["page"].append(_ms(item["page"]))
            out["query"].append(_ms(item["query"]))
            if number % step == 0 and len(out["naive"]) < naive_requests:
                out["naive"].append(_ms(item["naive"]))
                out["indexed"].append(_ms(item["indexed"]))
    return samples


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


@dataclass
class NaiveList:
    """What a first Django list view runs: ``select_related`` rows with every column
    (the encrypted ones decrypted as the model loads them), ``COUNT(*)`` over every match
    for the paginator, and ``OFFSET`` paging; ``{table}`` is put in for the FROM table."""

    rows_sql: str
    count_sql: str
    params: list[Any]
    count_params: list[Any]
    encrypted: list[tuple[int, Any]]  # (column position, field) to decrypt


def _naive_sql(user: Any, kwargs: dict[str, Any], per_page: int) -> NaiveList:
    """The board's own filters (Django's WHERE clause, parameters kept), run the naive way."""
    from django.db import connection

    from cityhall.procedures.models import Application
    from cityhall.procedures.services import cases

    filters = cases.Filters(**{k: v for k, v in kwargs.items() if k != "page"})
    qs = cases.board_queryset(user, filters).order_by(
        "-submitted_at" if filters.sort == "newest" else cases.SORTS[filters.sort][0]
    )
    offset = (max(1, int(kwargs.get("page", 1))) - 1) * per_page
    listed = qs.select_related("procedure", "department", "assignee")[offset : offset + per_page]
    compiler = listed.query.get_compiler(connection=connection)
    rows_sql, params = compiler.as_sql()
    table = connection.ops.quote_name(Application._meta.db_table)
    encrypted = [
        (position, col.target)
        for position, (col, _sql, _alias) in enumerate(compiler.select)
        if getattr(col, "target", None) is not None
        and col.target.model is Application
        and col.target.name in ("data", "applicant_name")
    ]
    count_sql, count_params = qs.order_by().values("id").query.sql_with_params()
    count_sql = f"SELECT COUNT(*) FROM ({count_sql}) AS matches"  # noqa: S608
    # Only the FROM table changes (aliased to its own name, so every reference still fits).
    source = f"FROM {table}"
    return NaiveList(
        rows_sql.replace(source, f"FROM {{table}} AS {table}", 1),
        count_sql.replace(source, f"FROM {{table}} AS {table}", 1),
        list(params),
        list(count_params),
        encrypted,
    )


def _naive_run(table: str, naive: NaiveList) -> Callable[[], Any]:
    from django.db import connection

    rows_sql = naive.rows_sql.replace("{table}", table)
    count_sql = naive.count_sql.replace("{table}", table)

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(count_sql, naive.count_params)
            cursor.fetchone()
            cursor.execute(rows_sql, naive.params)
            for row in cursor.fetchall():
                for position, field in naive.encrypted:
                    field.from_db_value(row[position], None, connection)

    return run


def _scenarios(info: dict[str, Any], user: Any) -> list[dict[str, Any]]:
    from cityhall.procedures.models import Application
    from cityhall.procedures.services import cases

    open_count = cases.board_queryset(user).count()
    # What a resident reads out at the counter: the 7 digits in the middle of YYYY-NNNNNNN-C.
    references = Application.objects.filter(
        department_id=info["department_id"], status="in_review"
    ).values_list("reference", flat=True)
    middle = (references.order_by("id")[references.count() // 2] or "").split("-")[1]
    approved = cases.board_queryset(user, cases.Filters(status=("approved",))).count()
    last_open = max(1, -(-min(open_count, cases.COUNT_CAP) // cases.PER_PAGE))
    deep_approved = max(1, -(-min(approved, cases.COUNT_CAP) // cases.PER_PAGE))
    return [
        {"name": "open (default)", "kwargs": {}},
        {"name": "open + overdue", "kwargs": {"overdue": True}},
        {"name": "assigned to me", "kwargs": {"assignee": "me"}},
        {"name": "one procedure", "kwargs": {"procedure": info["procedure_id"]}},
        {"name": "unassigned, due first", "kwargs": {"assignee": "none", "sort": "due"}},
        {"name": f"open, deep page {last_open}", "kwargs": {"page": last_open}},
        {
            "name": f"approved, deep page {deep_approved}",
            "kwargs": {"status": ["approved"], "page": deep_approved},
        },
        {"name": "reference number (middle part)", "kwargs": {"reference": middle}},
        {"name": "admin: all departments", "kwargs": {}, "admin": True},
    ]


def _query_string(kwargs: dict[str, Any]) -> str:
    pairs: list[tuple[str, Any]] = []
    for key, value in kwargs.items():
        if isinstance(value, list):
            pairs += [(key, v) for v in value]
        elif value is True:
            pairs.append((key, "on"))
        else:
            pairs.append((key, value))
    return urlencode(pairs)


def run(
    applications: int,
    requests: int,
    naive_requests: int,
    seed: int,
    database_url: str,
    proposed_indexes: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-") as data_dir:
        setup_django(data_dir, database_url)
        from django.core.management import call_command
        from django.db import connection

        from cityhall.people.models import User
        from cityhall.procedures.services import cases

        call_command("migrate", verbosity=0)
        info = _seed(applications, seed)
        _analyze_and_copy(proposed_indexes)
        clerk = User.objects.get(pk=info["clerk_id"])
        admin = User.objects.get(pk=info["admin_id"])
        clients = {False: _logged_in_client(clerk), True: _logged_in_client(admin)}
        vendor = connection.vendor
        with connection.cursor() as cursor:
            cursor.execute(
                "select sqlite_version()" if vendor == "sqlite" else "show server_version"
            )
            engine_version = cursor.fetchone()[0]

        prepared = [
            _prepare(scenario, clerk, admin, clients) for scenario in _scenarios(info, clerk)
        ]
        samples = _measure(prepared, requests, naive_requests)
        results = []
        for item, measured in zip(prepared, samples, strict=True):
            page = cases.board(item["user"], **item["kwargs"])
            page_stats = _stats(measured["page"])
            query_stats = _stats(measured["query"])
            naive_stats = _stats(measured["naive"])
            results.append(
                {
                    "scenario": item["name"],
                    "url": item["url"],
                    "matches": f"{page.count:,}{'+' if page.capped else ''}",
                    "page": page.number,
                    "page_view": page_stats,
                    "board_query": query_stats,
                    "naive_unindexed": naive_stats,
                    "naive_indexed": _stats(measured["indexed"]),
                    "ratio_naive_to_page_p95": round(
                        naive_stats["p95_ms"] / page_stats["p95_ms"], 1
                    ),
                    "ratio_naive_to_query_p95": round(
                        naive_stats["p95_ms"] / query_stats["p95_ms"], 1
                    ),
                    "meets_goal": page_stats["p95_ms"] <= GOAL_MS,
                }
            )
        table_rows = _count_rows()

    import django

    worst = max(r["page_view"]["p95_ms"] for r in results)
    return {
        "benchmark": "case_board",
        "database": vendor,
        "variant": vendor + (" + proposed indexes" if proposed_indexes else ""),
        "indexes": "Application.Meta.indexes"
        + (", changed by: " + "; ".join(PROPOSED_INDEXES) if proposed_indexes else ""),
        "metric": "p95 ms of the board's list page (GET /staff/cases/, filters on)",
        "value": worst,
        "goal_ms": GOAL_MS,
        "meets_goal": all(r["meets_goal"] for r in results),
        "baseline_name": "naive list view: select_related rows with every column, full COUNT(*), "
        "OFFSET, on an unindexed copy of the table",
        "scenarios": results,
        "applications": applications,
        "table_rows": table_rows,
        "departments": len(DEPARTMENTS),
        "busiest_department_share": DEPARTMENTS[0][1] / 100,
        "requests_per_scenario": requests,
        "naive_requests_per_scenario": naive_requests,
        "seconds_to_seed": info["seconds_to_seed"],
        "seed": seed,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "database": f"{vendor} {engine_version}",
            "django": django.get_version(),
            "platform": platform.platform(),
            "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _count_rows() -> int:
    from cityhall.procedures.models import Application

    return Application.objects.count()


def table(result: dict[str, Any]) -> str:
    head = (
        "scenario",
        "matches",
        "page p50",
        "page p95",
        "page max",
        "query p95",
        "naive p95",
        "naive+idx p95",
        "naive/page",
        "naive/query",
        "goal",
    )
    rows = []
    for r in result["scenarios"]:
        rows.append(
            (
                r["scenario"],
                r["matches"],
                f"{r['page_view']['p50_ms']:.1f}",
                f"{r['page_view']['p95_ms']:.1f}",
                f"{r['page_view']['max_ms']:.1f}",
                f"{r['board_query']['p95_ms']:.1f}",
                f"{r['naive_unindexed']['p95_ms']:.1f}",
                f"{r['naive_indexed']['p95_ms']:.1f}",
                f"{r['ratio_naive_to_page_p95']:.1f}×",
                f"{r['ratio_naive_to_query_p95']:.1f}×",
                "met" if r["meets_goal"] else "✗ MISSED",
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    lines = [
        f"case board on {result['machine']['database']}"
        f"{' + proposed indexes' if 'proposed' in result['variant'] else ''}: "
        f"{result['table_rows']:,} applications, "
        f"{result['departments']} departments; times in ms; "
        f"page n={result['requests_per_scenario']}, "
        f"naive n={result['naive_requests_per_scenario']}",
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        ),
        "-" * (sum(widths) + 2 * (len(widths) - 1)),
    ]
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    lines.append(
        f"goal: page p95 ≤ {result['goal_ms']:.0f} ms in every scenario: "
        f"{'met' if result['meets_goal'] else '✗ MISSED'} (worst p95 {result['value']:.1f} ms)"
    )
    lines.append(
        "page = GET through the whole stack (session, TOTP check, audit entry, template); "
        "query = services.cases.board(); naive = select_related rows with every column + "
        "COUNT(*) + OFFSET, without indexes; "
        "naive+idx = the same on the indexed table"
    )
    m = result["machine"]
    lines.append(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, Django {m['django']}, "
        f"load {m['load_average_1m']}; seeding took {result['seconds_to_seed']} s (not timed)"
    )
    return "\n".join(lines)


def _write(result: dict[str, Any], output: Path) -> None:
    """Keep the latest run per database engine in one file."""
    from bench_results import keep_latest_run

    keep_latest_run("case_board", result, output, goal_ms=GOAL_MS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applications", type=int, default=100_000, help="(100000)")
    parser.add_argument("--requests", type=int, default=200, help="per scenario (200)")
    parser.add_argument(
        "--naive-requests", type=int, default=20, help="per scenario for the baselines (20)"
    )
    parser.add_argument("--seed", type=int, default=2004, help="random seed (2004)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL scratch database (default: $DATABASE_URL; empty: SQLite)",
    )
    parser.add_argument(
        "--proposed-indexes",
        action="store_true",
        help="also create the indexes proposed for Application.Meta before measuring",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    url = resolve_database_url(args.database_url)
    if url.startswith(("postgres://", "postgresql://")):
        with scratch_postgres(
            url,
            holds_data_table="procedures_application",
            what="applications",
            example="cityhall_bench_board",
        ):
            result = run(
                args.applications,
                args.requests,
                args.naive_requests,
                args.seed,
                url,
                args.proposed_indexes,
            )
    elif url:
        raise SystemExit("DATABASE_URL: only PostgreSQL (or nothing, for SQLite) is supported")
    else:
        result = run(
            args.applications,
            args.requests,
            args.naive_requests,
            args.seed,
            "",
            args.proposed_indexes,
        )
    print(table(result))
    _write(result, args.output)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
