"""Benchmark: the portal's pages under load from 32 concurrent clients, against Django's ceiling.

    uv run python bench/portal_pages.py [--duration 5] [--rounds 5] [--connections 32]

A production-like server is started on 127.0.0.1 and measured with ``wrk`` (Debian's
package, installed here when missing and when run as root; a keep-alive asyncio client
in Python otherwise):

- server: gunicorn, ``gthread`` workers, 2 × cores workers, ``cityhall.wsgi``;
- settings: ``CITYHALL_ENV=production`` (DEBUG off, manifest static files served by
  WhiteNoise after ``collectstatic``, the production middleware and checks) with
  throw-away secrets, ``CITYHALL_SSL_REDIRECT=false`` (no TLS on loopback) and
  ``CITYHALL_ALLOWED_HOSTS=127.0.0.1``; ``DJANGO_SETTINGS_MODULE=bench_settings``,
  which is ``cityhall.settings`` plus one extra URL (see ``bench/bare_urls.py``);
- data: a fresh SQLite database in a temporary ``CITYHALL_DATA_DIR``, migrated, seeded
  with ``cityhall seed --no-demo`` (Iga's districts, departments and facilities) when
  that command exists, else a small fallback, plus one resident with a full profile
  whose session cookie the "my page" clients send.

Measured side by side in every round (the order rotates): requests per second and
p50 / p95 latency of

- the bare view ``/__bench__/bare/`` (a short text through the same middleware,
  workers and server: the framework's ceiling on this machine; the baseline),
- the home page ``/`` (anonymous; served from the per-process public page cache after
  the first request, as in production),
- the home page with that cache off (``CITYHALL_PAGE_CACHE_SECONDS=0``, a second
  server, otherwise identical): what rendering it costs,
- my page ``/my/`` (logged-in resident).

Also the home page's weight: HTML + CSS + JS, uncompressed and gzip-compressed.

Goals: home ≥ 40 % of the bare view's throughput, home p95 ≤ 50 ms, weight ≤ 100 KB.
Prints a table; writes ``bench/results/portal_pages.json``. A missed goal is reported,
not an error: the exit status is non-zero only when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "portal_pages.json"
HOST = "127.0.0.1"

GOAL_RATIO = 0.40
GOAL_P95_MS = 50.0
WEIGHT_BUDGET = 100 * 1024
RESIDENT_EMAIL = "bench.resident@example.jp"

WRK_LUA = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"non2xx\":%d," ..
    "\"p50_us\":%d,\"p95_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""

SETUP_RESIDENT = """
import django
django.setup()
from django.test import Client
from django.utils import timezone
from cityhall.core.models import District
from cityhall.people.models import ResidentProfile, User
email = {email!r}
user = User.objects.filter(email=email).first()
if user is None:
    user = User.objects.create_user(
        email=email, password=None, email_verified_at=timezone.now(), display_name="伊賀 花子"
    )
    ResidentProfile.objects.create(
        user=user, district=District.objects.order_by("pk").first(), birth_year=1984,
        household_size=4, children_birth_years=[2015, 2019], preferred_language="ja",
        interests=["childcare", "disaster"], phone="0595-22-2500", postal_code="518-8501",
        address="三重県伊賀市四十九町3184",
    )
client = Client()
client.force_login(user)
print("SESSION", client.cookies["sessionid"].value)
"""

FALLBACK_SEED = """
import django
django.setup()
from cityhall.core.models import Area, District, Facility
from cityhall.people.models import Department
area, _ = Area.objects.get_or_create(code="ueno", defaults={"name": "上野"})
District.objects.get_or_create(code="ueno-tobu", defaults={"name": "上野東部", "area": area})
departments = [
    ("shimin-seikatsu", "市民生活課"), ("zeimu", "税務課"), ("bosai", "総合危機管理課"),
    ("kosodate-shien", "こども家庭課"), ("kaigo-korei", "介護高齢福祉課"),
]
for code, name in departments:
    Department.objects.get_or_create(code=code, defaults={"name": name, "phone": "0595-22-9999"})
Facility.objects.get_or_create(code="city-hall", defaults={
    "name": "伊賀市役所", "kind": "city_hall", "postal_code": "518-8501",
    "address": "三重県伊賀市四十九町3184", "phone": "0595-22-2500"})
print("fallback seed done")
"""


@dataclass
class Target:
    name: str
    path: str
    cookie: str = ""
    server: str = "main"  # "main", or "nocache": the same site with the page cache off


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int
    non2xx: int


# --- environment, data, server ------------------------------------------------------------


def server_env(data_dir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # always a fresh SQLite database in data_dir
    python_path = [str(BENCH), str(ROOT / "src")]
    if env.get("PYTHONPATH"):
        python_path.append(env["PYTHONPATH"])
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(python_path),
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "CITYHALL_BENCH_URLCONF": "bare_urls",
            "CITYHALL_ENV": "production",
            "CITYHALL_DEBUG": "false",
            "CITYHALL_SECRET_KEY": secrets.token_urlsafe(50),
            "CITYHALL_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "CITYHALL_AUDIT_KEY": secrets.token_urlsafe(32),
            "CITYHALL_PAYMENT_SECRET": secrets.token_urlsafe(32),
            "CITYHALL_SSL_REDIRECT": "false",
            "CITYHALL_ALLOWED_HOSTS": HOST,
            "CITYHALL_DATA_DIR": str(data_dir),
            "CITYHALL_EMAIL_BACKEND": "console",
            "CITYHALL_LOG_LEVEL": "WARNING",
        }
    )
    return env


def django_cmd(
    env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Migrate, collect static files, seed, and log a resident in; returns (seed, session)."""
    for args in (("migrate", "--noinput"), ("createcachetable",), ("collectstatic", "--noinput")):
        done = django_cmd(env, *args)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    seeded = django_cmd(env, "seed", "--no-demo")
    if seeded.returncode == 0:
        seed = "cityhall seed --no-demo"
    else:
        first = (seeded.stderr.strip().splitlines() or ["?"])[-1]
        print(f"`cityhall seed --no-demo` did not run ({first}); using the small fallback seed")
        fallback = run_python(env, FALLBACK_SEED)
        if fallback.returncode != 0:
            raise SystemExit(f"fallback seed failed:\n{fallback.stderr}")
        seed = "fallback (5 departments, 1 district, city hall)"
    made = run_python(env, SETUP_RESIDENT.format(email=RESIDENT_EMAIL))
    match = re.search(r"^SESSION (\S+)$", made.stdout, re.MULTILINE)
    if made.returncode != 0 or not match:
        raise SystemExit(f"could not make the demo resident:\n{made.stdout}\n{made.stderr}")
    return seed, match.group(1)


def run_python(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int, log: Path) -> Iterator[int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "cityhall.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--keep-alive=5",
        "--backlog=256",
        "--log-level=warning",
        f"--error-logfile={log}",
    ]
    with log.open("w") as _:
        pass
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
            try:
                status, _, _ = fetch(port, "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer /healthz in 60 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def fetch(port: int, path: str, cookie: str = "") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}")
    if cookie:
        request.add_header("Cookie", cookie)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def check_targets(port: int, targets: list[Target]) -> None:
    """Each target must answer 200 with the right page before it is measured."""
    for target in targets:
        status, headers, body = fetch(port, target.path, target.cookie)
        if status != 200:
            raise SystemExit(f"{target.name} {target.path} answered {status}: {body[:300]!r}")
        if target.name == "my page" and RESIDENT_EMAIL.encode() not in body:
            raise SystemExit("my page does not show the resident: the session cookie is not used")
        if target.path == "/" and not headers.get("Content-Type", "").startswith("text/html"):
            raise SystemExit(f"home answered {headers.get('Content-Type')}")


# --- load generators ------------------------------------------------------------------------


def ensure_wrk(choice: str) -> str | None:
    """Path of wrk, installing Debian's package when missing (root only)."""
    if choice == "python":
        return None
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing Debian's package (apt-get install -y wrk)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        for command in (install, ["apt-get", "update", "-q"], install):
            if shutil.which("wrk"):
                break
            subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
        found = shutil.which("wrk")
        if found:
            print(f"installed wrk: {found}")
            return found
    if choice == "wrk":
        raise SystemExit("wrk is not installed and could not be installed")
    print("wrk is not available: using the Python asyncio client (it may be the bottleneck)")
    return None


def run_wrk(
    wrk: str, port: int, target: Target, seconds: float, connections: int, lua: Path
) -> Sample:
    threads = max(1, min(2, os.cpu_count() or 1))
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout=10s",
        "--latency",
        "-s",
        str(lua),
    ]
    if target.cookie:
        command += ["-H", f"Cookie: {target.cookie}"]
    command.append(f"http://{HOST}:{port}{target.path}")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    match = re.search(r"^WRK_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not match:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(match.group(1))
    return Sample(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=data["errors"],
        non2xx=data["non2xx"],
    )


async def _python_client(
    port: int, target: Target, deadline: float, latencies: list[float], counts: dict[str, int]
) -> None:
    head = f"GET {target.path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: keep-alive\r\n"
    if target.cookie:
        head += f"Cookie: {target.cookie}\r\n"
    request = (head + "\r\n").encode()
    reader = writer = None
    while time.perf_counter() < deadline and counts["requests"] < 10_000_000:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            assert reader is not None
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length, close = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            counts["requests"] += 1
            if not status_line.split(b" ")[1].startswith(b"2"):
                counts["non2xx"] += 1
            if close:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, IndexError):
            counts["errors"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run_python_load(port: int, target: Target, seconds: float, connections: int) -> Sample:
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0, "non2xx": 0}

    async def main() -> float:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_python_client(port, target, deadline, latencies, counts) for _ in range(connections))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return Sample(
        rps=counts["requests"] / elapsed,
        p50_ms=pct(0.50),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        requests=counts["requests"],
        errors=counts["errors"],
        non2xx=counts["non2xx"],
    )


# --- page weight ----------------------------------------------------------------------------


def page_weight(port: int) -> dict[str, Any]:
    status, _, html = fetch(port, "/")
    assert status == 200
    text = html.decode("utf-8")
    assets = re.findall(r"<link[^>]+rel=\"stylesheet\"[^>]*href=\"([^\"]+)\"", text)
    assets += re.findall(r"<script[^>]+src=\"([^\"]+)\"", text)
    parts = {"/": html}
    for href in assets:
        code, _, body = fetch(port, href)
        if code != 200:
            raise SystemExit(f"home page asset {href} answered {code}")
        parts[href] = body
    return {
        "raw": sum(len(b) for b in parts.values()),
        "gzip": sum(len(gzip.compress(b, compresslevel=6)) for b in parts.values()),
        "files": {name: len(body) for name, body in parts.items()},
    }


# --- report ---------------------------------------------------------------------------------


def median_sample(samples: list[Sample]) -> Sample:
    return Sample(
        rps=statistics.median(s.rps for s in samples),
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p95_ms=statistics.median(s.p95_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        requests=sum(s.requests for s in samples),
        errors=sum(s.errors for s in samples),
        non2xx=sum(s.non2xx for s in samples),
    )


def row(
    metric: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    baseline_of: str = "",
    goal: str = "",
    met: bool | None = None,
) -> dict[str, Any]:
    ratio = None if baseline in (None, 0) else value / baseline  # type: ignore[operator]
    return {
        "metric": metric,
        "value": round(value, 2),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 2),
        "baseline_of": baseline_of,
        "ratio": None if ratio is None else round(ratio, 3),
        "goal": goal,
        "met": met,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("metric", "value", "baseline", "ratio", "goal")
    lines = []
    for r in rows:
        value = f"{r['value']:,.1f} {r['unit']}"
        baseline = "—" if r["baseline"] is None else f"{r['baseline']:,.1f} ({r['baseline_of']})"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        goal = r["goal"] + ("" if r["met"] is None else (" ✓" if r["met"] else " ✗ MISSED"))
        lines.append((r["metric"], value, baseline, ratio, goal))
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over the targets")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up each")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients")
    cores = os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=2 * cores, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    args.duration = min(max(args.duration, 1.0), 120.0)
    args.rounds = min(max(args.rounds, 1), 10)
    args.warmup = min(max(args.warmup, 0.0), 30.0)
    args.connections = min(max(args.connections, 1), 1024)

    wrk = ensure_wrk(args.load)
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-") as tmp:
        data_dir = Path(tmp)
        env = server_env(data_dir)
        print("preparing: migrate, collectstatic, seed, demo resident …", flush=True)
        seed, session = prepare(env)
        targets = [
            Target("bare view", "/__bench__/bare/"),
            Target("home", "/"),
            Target("home, page cache off", "/", server="nocache"),
            Target("my page", "/my/", cookie=f"sessionid={session}"),
        ]
        lua = data_dir / "report.lua"
        lua.write_text(WRK_LUA)
        log = data_dir / "gunicorn.log"
        nocache_log = data_dir / "gunicorn-nocache.log"
        samples: dict[str, list[Sample]] = {t.name: [] for t in targets}
        nocache_env = {**env, "CITYHALL_PAGE_CACHE_SECONDS": "0"}
        with (
            gunicorn(env, args.workers, args.threads, log) as port,
            gunicorn(nocache_env, args.workers, args.threads, nocache_log) as nocache_port,
        ):
            ports = {"main": port, "nocache": nocache_port}
            for target in targets:
                check_targets(ports[target.server], [target])
            weight = page_weight(port)

            def measure(target: Target, seconds: float) -> Sample:
                at = ports[target.server]
                if wrk:
                    return run_wrk(wrk, at, target, seconds, args.connections, lua)
                return run_python_load(at, target, seconds, args.connections)

            if args.warmup:
                for target in targets:
                    measure(target, args.warmup)
            for number in range(args.rounds):
                order = targets[number % len(targets) :] + targets[: number % len(targets)]
                for target in order:
                    sample = measure(target, args.duration)
                    samples[target.name].append(sample)
                    print(
                        f"round {number + 1}/{args.rounds} {target.name:22s} "
                        f"{sample.rps:8.1f} req/s  p50 {sample.p50_ms:6.1f} ms  "
                        f"p95 {sample.p95_ms:6.1f} ms  errors {sample.errors + sample.non2xx}",
                        flush=True,
                    )
            server_log = (log.read_text() + nocache_log.read_text()).strip()

    bare, home, uncached, mine = (median_sample(samples[t.name]) for t in targets)
    failures = {name: sum(s.errors + s.non2xx for s in lst) for name, lst in samples.items()}
    rows = [
        row("bare view: requests/s", bare.rps, "req/s"),
        row(
            "home: requests/s",
            home.rps,
            "req/s",
            bare.rps,
            "bare view",
            f"≥ {GOAL_RATIO:.0%} of bare",
            home.rps >= GOAL_RATIO * bare.rps,
        ),
        row("home, page cache off: requests/s", uncached.rps, "req/s", bare.rps, "bare view"),
        row("my page: requests/s", mine.rps, "req/s", bare.rps, "bare view"),
        row("bare view: p50", bare.p50_ms, "ms"),
        row("bare view: p95", bare.p95_ms, "ms"),
        row("home: p50", home.p50_ms, "ms", bare.p50_ms, "bare view"),
        row(
            "home: p95",
            home.p95_ms,
            "ms",
            bare.p95_ms,
            "bare view",
            f"≤ {GOAL_P95_MS:.0f} ms",
            home.p95_ms <= GOAL_P95_MS,
        ),
        row("home, page cache off: p50", uncached.p50_ms, "ms", bare.p50_ms, "bare view"),
        row("home, page cache off: p95", uncached.p95_ms, "ms", bare.p95_ms, "bare view"),
        row("my page: p50", mine.p50_ms, "ms", bare.p50_ms, "bare view"),
        row(
            "my page: p95",
            mine.p95_ms,
            "ms",
            bare.p95_ms,
            "bare view",
            f"≤ {GOAL_P95_MS:.0f} ms",
            mine.p95_ms <= GOAL_P95_MS,
        ),
        row(
            "home weight (HTML+CSS+JS)",
            weight["raw"] / 1024,
            "KB",
            WEIGHT_BUDGET / 1024,
            "budget",
            "≤ 100 KB",
            weight["raw"] <= WEIGHT_BUDGET,
        ),
        row(
            "home weight, gzip",
            weight["gzip"] / 1024,
            "KB",
            weight["raw"] / 1024,
            "uncompressed",
        ),
    ]
    machine = {
        "cores": cores,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "django": _version("django"),
        "server": f"gunicorn {_version('gunicorn')} (gthread, keep-alive 5 s)",
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "settings": "CITYHALL_ENV=production, DEBUG off, SQLite (WAL) in a temp dir, "
        "db cache, collectstatic + WhiteNoise manifest storage, no TLS (SSL redirect off), "
        "public page cache at its default; 'home, page cache off' is a second, identical "
        "server with CITYHALL_PAGE_CACHE_SECONDS=0",
        "seed": seed,
        "load_generator": ("wrk " + _wrk_version(wrk)) if wrk else "python asyncio keep-alive",
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "statistic": "median over rounds",
        "host": HOST,
    }
    print()
    print(
        f"portal pages — {args.connections} clients, {args.rounds} × {args.duration:.0f} s, "
        f"gunicorn {args.workers} workers × {args.threads} threads, {cores} cores, "
        f"load: {machine['load_generator']}"
    )
    print_table(rows)
    print(f"home page files: {weight['files']}")
    if any(failures.values()):
        print(f"socket errors or non-2xx answers: {failures}")
    if server_log:
        print(f"server log (last lines):\n{server_log[-2000:]}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "portal_pages",
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "metrics": rows,
                "errors": failures,
                "rounds": {
                    name: [
                        {
                            "rps": round(x.rps, 1),
                            "p50_ms": round(x.p50_ms, 2),
                            "p95_ms": round(x.p95_ms, 2),
                            "p99_ms": round(x.p99_ms, 2),
                            "requests": x.requests,
                        }
                        for x in lst
                    ]
                    for name, lst in samples.items()
                },
                "home_files_bytes": weight["files"],
                "machine": machine,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if any(failures.values()) else 0


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "?"


if __name__ == "__main__":
    sys.exit(main())
