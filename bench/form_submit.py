"""Benchmark: online submissions per second of a 20-field form with prefill, 16 concurrent clients.

    uv run python bench/form_submit.py [--duration 5] [--rounds 5] [--clients 16]

A production-like server is started on 127.0.0.1 (the same as ``portal_pages.py``:
gunicorn ``gthread`` workers, ``CITYHALL_ENV=production`` with throw-away secrets, a fresh
SQLite database in a temporary directory) with ``DJANGO_SETTINGS_MODULE=form_submit_settings``
(``bench/form_submit_settings.py``: the benchmark settings, the baseline URL below, and no
per-resident submission limit). It is seeded with one department, a procedure whose
published form has 20 questions on 4 steps (name with furigana, 和暦 dates, postal code,
phone, address, choices, a condition, a repeatable group, consents; 6 questions prefilled
from the profile or the previous application), and one logged-in resident per client.

Each client (a thread with its own keep-alive connection and its own resident's session and
CSRF token) repeats the resident's flow through the JSON API for a fixed time:
``POST /api/v1/procedures/bench-20/applications`` with a fresh ``Idempotency-Key`` and the
20 answers — which starts the draft (prefill), checks every step, saves it and submits it
exactly once (reference number, SLA due date, audit log, receipt e-mail queued). Only a
201 with a reference counts as a submission.

Baseline, measured in the same run by the same clients with the same body: the cost floor,
``POST /__bench__/store/`` (``bench/form_submit_urls.py``): session and CSRF checked, the
JSON parsed and stored as one row, nothing else. The ratio says what the form, the
prefill, the checks and the bookkeeping cost on top of storing a row.

With ``DATABASE_URL`` set to a PostgreSQL server the whole benchmark runs a second time on
a scratch database created there (and dropped afterwards; the server's own databases are
never written to). Prints a table per database; writes ``bench/results/form_submit.json``.
The exit status is non-zero only when the benchmark could not run or requests failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_db import fresh_postgres
from portal_pages import (
    HOST,
    _version,
    django_cmd,
    gunicorn,
    print_table,
    row,
    run_python,
    server_env,
)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "form_submit.json"
SLUG = "bench-20"
SUBMIT_PATH = f"/api/v1/procedures/{SLUG}/applications"
FLOOR_PATH = "/__bench__/store/"


def _text(ja: str, en: str) -> dict[str, str]:
    return {"ja": ja, "en": en}


def _choices(*values: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"value": v, "label": _text(ja, en)} for v, ja, en in values]


#: 20 questions on 4 steps; 6 are prefilled (profile, previous application).
SPEC: dict[str, Any] = {
    "title": _text("住民票の写し等の交付請求", "Request for a residence certificate"),
    "steps": [
        {
            "key": "applicant",
            "title": _text("請求する人", "Applicant"),
            "fields": [
                {"key": "name", "type": "name", "label": _text("氏名", "Name")},
                {
                    "key": "birthdate",
                    "type": "date",
                    "calendar": "wareki",
                    "max": "today",
                    "label": _text("生年月日", "Date of birth"),
                },
                {
                    "key": "phone",
                    "type": "phone",
                    "label": _text("電話番号", "Phone"),
                    "prefill": ["profile.phone", "previous"],
                },
                {
                    "key": "email",
                    "type": "email",
                    "label": _text("メールアドレス", "E-mail"),
                    "prefill": ["profile.email"],
                },
                {
                    "key": "postal_code",
                    "type": "postal_code",
                    "label": _text("郵便番号", "Postal code"),
                    "prefill": ["profile.postal_code"],
                },
            ],
        },
        {
            "key": "address",
            "title": _text("住所", "Address"),
            "fields": [
                {
                    "key": "address",
                    "type": "address",
                    "label": _text("住所", "Address"),
                    "prefill": ["profile.address"],
                },
                {
                    "key": "district",
                    "type": "select",
                    "label": _text("地区", "District"),
                    "prefill": ["previous"],
                    "choices": _choices(
                        ("ueno", "上野", "Ueno"),
                        ("iga", "伊賀", "Iga"),
                        ("shimagahara", "島ヶ原", "Shimagahara"),
                        ("ayama", "阿山", "Ayama"),
                        ("oyamada", "大山田", "Oyamada"),
                        ("aoyama", "青山", "Aoyama"),
                    ),
                },
                {
                    "key": "household_size",
                    "type": "number",
                    "min": 1,
                    "max": 20,
                    "label": _text("世帯の人数", "People in the household"),
                },
                {
                    "key": "moved_in",
                    "type": "date",
                    "max": "today",
                    "label": _text("転入日", "Moved in on"),
                },
                {
                    "key": "previous_address",
                    "type": "text",
                    "required": False,
                    "label": _text("前住所", "Previous address"),
                },
            ],
        },
        {
            "key": "request",
            "title": _text("請求の内容", "What you need"),
            "fields": [
                {
                    "key": "purpose",
                    "type": "choice",
                    "label": _text("使いみち", "Purpose"),
                    "choices": _choices(
                        ("work", "勤務先に提出", "For work"),
                        ("school", "学校に提出", "For school"),
                        ("other", "その他", "Other"),
                    ),
                },
                {
                    "key": "copies",
                    "type": "number",
                    "min": 1,
                    "max": 10,
                    "label": _text("通数", "Copies"),
                },
                {
                    "key": "items",
                    "type": "multichoice",
                    "label": _text("記載する事項", "Items to show"),
                    "choices": _choices(
                        ("household", "世帯主・続柄", "Head of household"),
                        ("domicile", "本籍", "Registered domicile"),
                        ("history", "前住所", "Previous address"),
                    ),
                },
                {
                    "key": "by_post",
                    "type": "yesno",
                    "label": _text("郵送を希望する", "Send by post"),
                },
                {
                    "key": "post_to",
                    "type": "address",
                    "label": _text("送付先", "Send to"),
                    "condition": {"field": "by_post", "equals": True},
                },
            ],
        },
        {
            "key": "family",
            "title": _text("世帯の方", "Household"),
            "fields": [
                {
                    "key": "members",
                    "type": "group",
                    "required": False,
                    "max_items": 5,
                    "label": _text("記載する世帯員", "Household members to show"),
                    "fields": [
                        {"key": "name", "type": "name", "label": _text("氏名", "Name")},
                        {
                            "key": "birthdate",
                            "type": "date",
                            "label": _text("生年月日", "Date of birth"),
                        },
                    ],
                },
                {
                    "key": "notes",
                    "type": "textarea",
                    "required": False,
                    "label": _text("備考", "Notes"),
                },
                {
                    "key": "contact_time",
                    "type": "select",
                    "prefill": ["previous"],
                    "label": _text("連絡のつく時間帯", "When to call"),
                    "choices": _choices(
                        ("morning", "午前", "Morning"),
                        ("afternoon", "午後", "Afternoon"),
                        ("any", "いつでも", "Any time"),
                    ),
                },
                {
                    "key": "agree_terms",
                    "type": "consent",
                    "label": _text("記載内容に誤りはありません", "The answers are true"),
                },
                {
                    "key": "agree_privacy",
                    "type": "consent",
                    "label": _text("個人情報の取扱いに同意します", "I agree to the privacy notice"),
                },
            ],
        },
    ],
}

#: The 20 answers each client sends (as typed: hiragana readings, 和暦, full-width digits).
ANSWERS: dict[str, Any] = {
    "name": {"family": "伊賀", "given": "花子", "family_kana": "いが", "given_kana": "はなこ"},
    "birthdate": "昭和59年5月12日",
    "phone": "0595-22-2500",
    "email": "",  # replaced by each resident's own address
    "postal_code": "５１８－８５０１",
    "address": "三重県伊賀市四十九町3184",
    "district": "ueno",
    "household_size": "4",
    "moved_in": "令和6年4月1日",
    "previous_address": "三重県津市広明町13",
    "purpose": "work",
    "copies": 2,
    "items": ["household", "history"],
    "by_post": True,
    "post_to": "三重県伊賀市上野丸之内116",
    "members": [
        {
            "name": {
                "family": "伊賀",
                "given": "一郎",
                "family_kana": "イガ",
                "given_kana": "イチロウ",
            },
            "birthdate": "2015-07-07",
        },
        {
            "name": {
                "family": "伊賀",
                "given": "桜",
                "family_kana": "イガ",
                "given_kana": "サクラ",
            },
            "birthdate": "2019-03-03",
        },
    ],
    "notes": "平日の午後に受け取りたいです。",
    "contact_time": "afternoon",
    "agree_terms": True,
    "agree_privacy": True,
}

SETUP = """
import json
import django
django.setup()
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone
from cityhall.people.models import Department, ResidentProfile, User
from cityhall.procedures.formspec.schema import parse
from cityhall.procedures.models import FormDefinition, FormVersion, Procedure
from form_submit_urls import TABLE_SQL

spec = json.loads({spec!r})
parse(spec)  # the form must be valid
department, _ = Department.objects.get_or_create(
    code="shimin-seikatsu", defaults={{"name": "市民生活課", "names": {{"en": "Citizens' Life"}}}}
)
procedure, _ = Procedure.objects.get_or_create(
    slug={slug!r},
    defaults={{
        "department": department,
        "category": "residence",
        "texts": {{"title": {{"ja": "住民票の写しの交付請求", "en": "Residence certificate"}}}},
        "fee_yen": 300,
    }},
)
definition, _ = FormDefinition.objects.get_or_create(
    procedure=procedure, defaults={{"draft": spec}}
)
if not FormVersion.objects.filter(definition=definition).exists():
    FormVersion.objects.create(definition=definition, number=1, spec=spec)
with connection.cursor() as cursor:
    cursor.execute(TABLE_SQL[connection.vendor])
out = []
for n in range({clients}):
    email = f"bench.resident{{n:02d}}@example.jp"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=None, email_verified_at=timezone.now(), display_name="伊賀 花子"
        )
        ResidentProfile.objects.create(
            user=user, birth_year=1984, household_size=4, preferred_language="ja",
            phone="0595-22-2500", postal_code="518-8501", address="三重県伊賀市四十九町3184",
        )
    client = Client()
    client.force_login(user)
    out.append({{"email": email, "session": client.cookies["sessionid"].value,
                "csrf": _get_new_csrf_string()}})
print("RESIDENTS " + json.dumps(out))
"""

COUNT = """
import django
django.setup()
from django.db import connection
from cityhall.procedures.models import Application
with connection.cursor() as cursor:
    cursor.execute("SELECT COUNT(*) FROM bench_submission")
    rows = cursor.fetchone()[0]
print("COUNTS", Application.objects.exclude(reference=None).count(),
      Application.objects.filter(status="draft").count(), rows)
"""


@dataclass
class Resident:
    email: str
    session: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {
            "Host": HOST,
            "Content-Type": "application/json",
            "Accept-Language": "ja",
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
        }

    def body(self) -> bytes:
        answers = dict(ANSWERS, email=self.email)
        return json.dumps({"answers": answers}, ensure_ascii=False).encode()


@dataclass
class Sample:
    ok: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return 0.0
        return data[min(len(data) - 1, int(q * len(data)))] * 1000

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok


# --- the load -----------------------------------------------------------------------------------


def _client(
    port: int,
    path: str,
    resident: Resident,
    deadline: list[float],
    sample: Sample,
    lock: threading.Lock,
    start: threading.Barrier,
) -> None:
    """One client: post to ``path`` with a new key each time until the deadline."""
    headers = resident.headers()
    body = resident.body()
    connection: http.client.HTTPConnection | None = None
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    ok = 0
    start.wait(timeout=60)
    while time.perf_counter() < deadline[0] and len(latencies) < 1_000_000:
        headers["Idempotency-Key"] = str(uuid.uuid4())
        began = time.perf_counter()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            status = response.status
            if (response.getheader("Connection") or "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            status, payload = 0, b""
            if connection is not None:
                connection.close()
            connection = None
        latencies.append(time.perf_counter() - began)
        ok += status == 201 and (path != SUBMIT_PATH or b'"reference": "' in payload)
        label = str(status) if status else "socket error"
        statuses[label] = statuses.get(label, 0) + 1
    if connection is not None:
        connection.close()
    with lock:
        sample.ok += ok
        sample.latencies.extend(latencies)
        for label, count in statuses.items():
            sample.statuses[label] = sample.statuses.get(label, 0) + count


def measure(port: int, path: str, residents: list[Resident], seconds: float) -> Sample:
    """Every resident's client posts to ``path`` for ``seconds``, all starting together."""
    sample = Sample(ok=0, seconds=seconds)
    lock = threading.Lock()
    deadline: list[float] = [0.0]
    began: list[float] = [0.0]

    def go() -> None:
        began[0] = time.perf_counter()
        deadline[0] = began[0] + seconds

    start = threading.Barrier(len(residents), action=go)
    threads = [
        threading.Thread(
            target=_client, args=(port, path, r, deadline, sample, lock, start), daemon=True
        )
        for r in residents
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 90)
    sample.seconds = time.perf_counter() - began[0]
    return sample


# --- set-up -------------------------------------------------------------------------------------


def prepare(env: dict[str, str], clients: int) -> list[Resident]:
    for args in (("migrate", "--noinput"), ("createcachetable",), ("collectstatic", "--noinput")):
        done = django_cmd(env, *args)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    code = SETUP.format(spec=json.dumps(SPEC, ensure_ascii=False), slug=SLUG, clients=clients)
    made = run_python(env, code)
    match = re.search(r"^RESIDENTS (.*)$", made.stdout, re.MULTILINE)
    if made.returncode != 0 or not match:
        raise SystemExit(f"could not set up the form and residents:\n{made.stdout}\n{made.stderr}")
    return [Resident(**r) for r in json.loads(match.group(1))]


def check(port: int, residents: list[Resident]) -> dict[str, Any]:
    """One real submission, its retry, and the floor must answer as they should."""
    resident = residents[0]
    headers = {**resident.headers(), "Idempotency-Key": str(uuid.uuid4())}

    def post(path: str) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            connection.request("POST", path, body=resident.body(), headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    status, first = post(SUBMIT_PATH)
    if status != 201 or not first.get("reference"):
        raise SystemExit(f"the submission answered {status}: {json.dumps(first)[:600]}")
    answers = first["answers"]
    if set(answers) != set(ANSWERS) or answers["postal_code"] != "518-8501":
        raise SystemExit(f"unexpected answers kept: {answers}")
    status, again = post(SUBMIT_PATH)
    if status != 200 or again.get("id") != first["id"]:
        raise SystemExit(f"the retry answered {status} with {again.get('id')}, not {first['id']}")
    status, stored = post(FLOOR_PATH)
    if status != 201:
        raise SystemExit(f"the floor endpoint answered {status}: {stored}")
    return {"reference": first["reference"], "answers": len(answers)}


def count_rows(env: dict[str, str]) -> tuple[int, int, int]:
    done = run_python(env, COUNT)
    match = re.search(r"^COUNTS (\d+) (\d+) (\d+)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not match:
        raise SystemExit(f"could not count the rows:\n{done.stdout}\n{done.stderr}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


# --- one database -------------------------------------------------------------------------------


def bench_database(label: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(env["CITYHALL_DATA_DIR"])
    print(
        f"[{label}] preparing: migrate, collectstatic, the 20-question form, "
        f"{args.clients} residents …",
        flush=True,
    )
    residents = prepare(env, args.clients)
    log = data_dir / "gunicorn.log"
    samples: dict[str, list[Sample]] = {"submit": [], "floor": []}
    paths = {"submit": SUBMIT_PATH, "floor": FLOOR_PATH}
    with gunicorn(env, args.workers, args.threads, log) as port:
        checked = check(port, residents)
        warm_ok = 0
        if args.warmup:
            for name in paths:
                warm = measure(port, paths[name], residents, args.warmup)
                warm_ok += warm.ok if name == "submit" else 0
        for number in range(args.rounds):
            order = ["submit", "floor"] if number % 2 == 0 else ["floor", "submit"]
            for name in order:
                sample = measure(port, paths[name], residents, args.duration)
                samples[name].append(sample)
                print(
                    f"[{label}] round {number + 1}/{args.rounds} {name:6s} "
                    f"{sample.rate:8.1f} /s  p50 {sample.pct(0.5):6.1f} ms  "
                    f"p95 {sample.pct(0.95):6.1f} ms  errors {sample.errors}",
                    flush=True,
                )
        server_log = log.read_text().strip()
    submitted, drafts, stored = count_rows(env)

    def med(name: str, what: str) -> float:
        values = [
            s.rate if what == "rate" else s.pct(0.5 if what == "p50" else 0.95)
            for s in samples[name]
        ]
        return statistics.median(values)

    sub_rate, floor_rate = med("submit", "rate"), med("floor", "rate")
    errors = {
        name: {
            "failed": sum(s.errors for s in lst),
            "answers": _merge([s.statuses for s in lst]),
        }
        for name, lst in samples.items()
    }
    ok_total = sum(s.ok for s in samples["submit"])
    rows = [
        row("submissions/s (20 questions, prefill)", sub_rate, "/s", floor_rate, "store JSON row"),
        row("store JSON row (floor): requests/s", floor_rate, "/s"),
        row("submission p50", med("submit", "p50"), "ms", med("floor", "p50"), "floor p50"),
        row("submission p95", med("submit", "p95"), "ms", med("floor", "p95"), "floor p95"),
        row("floor p50", med("floor", "p50"), "ms"),
        row("floor p95", med("floor", "p95"), "ms"),
        row(
            "failed submissions",
            errors["submit"]["failed"],
            "",
            None,
            "",
            "0",
            errors["submit"]["failed"] == 0,
        ),
    ]
    print()
    print(
        f"form submit [{label}] — {args.clients} clients, {args.rounds} × "
        f"{args.duration:.0f} s, gunicorn {args.workers} workers × {args.threads} threads"
    )
    print_table(rows)
    # Every 201 counted is one application; the check made one more (its retry made none).
    exactly_once = submitted == ok_total + warm_ok + 1
    print(
        f"applications in the database: {submitted}; 201 answers: {ok_total + warm_ok + 1} "
        f"(measured {ok_total}, warm-up {warm_ok}, check 1) — "
        f"{'one each' if exactly_once else 'MISMATCH'}; drafts left: {drafts}; "
        f"floor rows: {stored}"
    )
    if server_log:
        print(f"server log (last lines):\n{server_log[-2000:]}")
    return {
        "metrics": rows,
        "errors": errors,
        "check": checked,
        "database_rows": {"applications": submitted, "drafts_left": drafts, "floor_rows": stored},
        "rounds": {
            name: [
                {
                    "per_s": round(s.rate, 1),
                    "p50_ms": round(s.pct(0.5), 2),
                    "p95_ms": round(s.pct(0.95), 2),
                    "requests": len(s.latencies),
                    "ok": s.ok,
                }
                for s in lst
            ]
            for name, lst in samples.items()
        },
        "applications_match_201s": exactly_once,
    }


def _merge(counts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (submit and floor each)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (residents)")
    cores = os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=2 * cores, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--sqlite-only", action="store_true", help="skip PostgreSQL even if DATABASE_URL is set"
    )
    args = parser.parse_args()
    args.duration = min(max(args.duration, 1.0), 120.0)
    args.rounds = min(max(args.rounds, 1), 10)
    args.warmup = min(max(args.warmup, 0.0), 30.0)
    args.clients = min(max(args.clients, 1), 256)

    database_url = os.environ.get("DATABASE_URL", "")
    results: dict[str, Any] = {}
    failed = 0
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-") as tmp:
        env = _env(Path(tmp) / "sqlite")
        results["sqlite"] = bench_database("SQLite", env, args)
        failed += results["sqlite"]["errors"]["submit"]["failed"]
        if database_url and not args.sqlite_only:
            with fresh_postgres(database_url) as scratch:
                env = {**_env(Path(tmp) / "postgresql"), "DATABASE_URL": scratch}
                results["postgresql"] = bench_database("PostgreSQL", env, args)
                failed += results["postgresql"]["errors"]["submit"]["failed"]
    if not database_url:
        print("\nPostgreSQL: not measured (set DATABASE_URL=postgres://… to measure it too)")

    machine = {
        "cores": cores,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "django": _version("django"),
        "server": f"gunicorn {_version('gunicorn')} (gthread, keep-alive 5 s)",
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "settings": "CITYHALL_ENV=production, DEBUG off, db cache, no TLS (SSL redirect off), "
        "DJANGO_SETTINGS_MODULE=form_submit_settings (no per-resident submission limit), "
        "CITYHALL_API_RATE lifted; SQLite (WAL) in a temp dir; PostgreSQL: a scratch "
        "database on the server of DATABASE_URL",
        "load_generator": "Python threads, one keep-alive http.client connection each, "
        "one resident session + CSRF token each, a new Idempotency-Key per request",
        "clients": args.clients,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "statistic": "median over rounds (latency percentiles per round, then the median)",
        "form": "20 questions on 4 steps, 6 with prefill sources (profile, previous)",
        "host": HOST,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "form_submit",
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "databases": results,
                "machine": machine,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


def _env(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "form_submit_settings",
            "CITYHALL_API_RATE": "100000000/m",
        }
    )
    return env


if __name__ == "__main__":
    sys.exit(main())
