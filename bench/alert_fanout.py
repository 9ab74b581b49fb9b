"""Benchmark: an emergency alert to the whole city (83,335 residents), queued and e-mailed.

    uv run python bench/alert_fanout.py [--residents 83335] [--emails 20000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityhall_bench_alert \\
        uv run python bench/alert_fanout.py

A fresh database: a SQLite file in a temporary ``CITYHALL_DATA_DIR``, or, when
``DATABASE_URL`` (or ``--database-url``) names PostgreSQL, that database — created for the
run and dropped after (an existing one is used only if it holds no deliveries). Migrating
and seeding (``seed_population``) are not counted.

Measured, in the same run:

1. **Queuing**: the wall time of ``messages.send_alert`` for the whole city — resolving the
   residents with the emergency consent, looking up their channels, inserting one delivery
   per resident and channel, publishing the alert article, committing. Goal ≤ 10 s.
   Baselines: the same rows written with one ``Delivery.objects.create`` per row
   (autocommit; ``--naive-sample`` rows timed, extrapolated), and with Django's
   ``bulk_create`` in one transaction (``--bulk-sample`` rows timed, extrapolated).
2. **E-mail throughput**: ``--workers`` (2) processes running ``cityhall send_notices --once
   --channel email`` at the same time against an aiosmtpd server on 127.0.0.1 that accepts
   and counts every message; ``--emails`` deliveries are sent (each worker takes its
   share). The figure is messages received / seconds between the first and the last
   (steady state); the time including process start is reported too. Goal ≥ 500/s.
   Baseline: one process, one SMTP connection per message (Django's ``send()`` of each
   e-mail on a new connection, the row saved after each), ``--baseline-emails`` of them.

The synthetic residents' addresses are ``*.invalid``: the e-mail channel's benchmark switch
(``include_placeholder_addresses``) is on for this run only. Prints a table; writes
bench/results/alert_fanout.json (latest run per database engine).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_db import resolve_database_url, scratch_postgres, setup_django
from bench_results import keep_latest_run

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "alert_fanout.json"
GOAL_QUEUE_SECONDS = 10.0
GOAL_EMAILS_PER_SECOND = 500.0
LANGUAGES = ["ja-easy", "ja", "pt-br", "vi", "zh-hans", "es", "en"]

#: This process's environment, and the sending workers' (besides the data directory and
#: the database, which ``setup_django`` sets).
ENV = {
    "CITYHALL_CACHE_URL": "locmem://",
    # Nothing runs the queued tasks: the benchmark's own workers do the sending.
    "CITYHALL_TASKS_BACKEND": "database",
    "DJANGO_SETTINGS_MODULE": "cityhall.settings",
    "CITYHALL_EMAIL_BACKEND": "smtp",
    "CITYHALL_EMAIL_HOST": "127.0.0.1",
    "CITYHALL_NOTICES_EMAIL_FALLBACK": "",
    "CITYHALL_NOTICES_EMAIL_RATE": "0",
    "PYTHONPATH": str(ROOT / "src"),
}


# --- SMTP sink ---------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """aiosmtpd on 127.0.0.1 that accepts everything and notes when each message came."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per command else

        self.times: list[float] = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                with sink.lock:
                    sink.times.append(time.perf_counter())
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def reset(self) -> None:
        with self.lock:
            self.times = []

    def stop(self) -> None:
        self.controller.stop()


# --- the work ----------------------------------------------------------------------------------


def _prepare(residents: int, seed: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import transaction

    from cityhall.core.seed import load_geography
    from cityhall.notices.models import MessageTemplate
    from cityhall.people.models import User
    from cityhall.people.seed import load_departments, seed_population

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    load_geography()
    load_departments()
    started = time.perf_counter()
    with transaction.atomic():
        report = seed_population(residents, seed=seed)
    seeded = time.perf_counter() - started
    template = MessageTemplate.objects.create(
        code="bench-alert",
        name="bench alert",
        kind="emergency",
        topic="emergency",
        content={
            lang: {
                "subject": f"[{lang}] Level 4: evacuate ((area))",
                "body": f"[{lang}] ((name)): evacuate to ((shelter)) now.",
            }
            for lang in LANGUAGES
        },
    )
    staff = User.objects.create_user(
        email="bosai@city.iga.example", password=None, is_staff=True, display_name="Bosai"
    )
    return {"template": template, "staff": staff, "accounts": report.accounts, "seeded": seeded}


def _queue_alert(template: Any, staff: Any) -> dict[str, Any]:
    from cityhall.notices.channels import email
    from cityhall.notices.models import Delivery
    from cityhall.notices.services import messages, segments

    email.INCLUDE_PLACEHOLDER_ADDRESSES = True
    # The parts, timed on their own first (read-only), then the real thing.
    started = time.perf_counter()
    ids = segments.resolve(segments.Filters(), purpose="emergency")
    resolved = time.perf_counter() - started
    started = time.perf_counter()
    targets = segments.reachable(ids, emergency=True, include_placeholder_addresses=True)
    reached = time.perf_counter() - started

    started = time.perf_counter()
    message = messages.send_alert(
        template=template,
        level="level4",
        districts=[],
        values={"area": "伊賀市全域", "shelter": "各地区の指定避難所"},
        actor=staff,
    )
    elapsed = time.perf_counter() - started
    deliveries = Delivery.objects.filter(message=message).count()
    per_channel = dict(
        Delivery.objects.filter(message=message)
        .values_list("channel")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        .order_by()
    )
    assert deliveries == len(targets), (deliveries, len(targets))
    return {
        "message": message,
        "seconds": elapsed,
        "deliveries": deliveries,
        "recipients": message.recipients,
        "per_channel": per_channel,
        "resolve_seconds": resolved,
        "reachable_seconds": reached,
        "targets": targets,
    }


def _naive_queue(template: Any, staff: Any, targets: list[Any], sample: int) -> float:
    """One ``Delivery.objects.create`` per row, autocommit; seconds per row."""
    from cityhall.notices.models import Delivery, Message

    message = Message.objects.create(
        kind="emergency", topic="emergency", template=template, content={}, state="sending"
    )
    rows = targets[:sample]
    started = time.perf_counter()
    for user_id, channel, language in rows:
        Delivery.objects.create(
            message=message, user_id=user_id, channel=channel, language=language
        )
    elapsed = time.perf_counter() - started
    message.delete()
    return elapsed / max(len(rows), 1)


def _bulk_queue(template: Any, staff: Any, targets: list[Any], sample: int) -> float:
    """Django's ``bulk_create`` in one transaction; seconds per row."""
    from django.db import transaction

    from cityhall.notices.models import Delivery, Message

    message = Message.objects.create(
        kind="emergency", topic="emergency", template=template, content={}, state="sending"
    )
    rows = targets[:sample]
    started = time.perf_counter()
    with transaction.atomic():
        Delivery.objects.bulk_create(
            [Delivery(message=message, user_id=u, channel=c, language=lang) for u, c, lang in rows],
            batch_size=2000,
        )
    elapsed = time.perf_counter() - started
    message.delete()
    return elapsed / max(len(rows), 1)


def _workers(env: dict[str, str], sink: Sink, workers: int, emails: int) -> dict[str, Any]:
    sink.reset()
    share = -(-emails // workers)
    command = [
        sys.executable,
        "-m",
        "cityhall.cli",
        "send_notices",
        "--once",
        "--channel",
        "email",
        "--include-placeholder-addresses",
        "--limit",
        str(share),
    ]
    worker_env = {**env, "CITYHALL_EMAIL_PORT": str(sink.port)}
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    outputs = [p.communicate(timeout=1800) for p in processes]
    wall = time.perf_counter() - started
    for process, (out, err) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise SystemExit(f"worker failed ({process.returncode}):\n{out}\n{err}")
    times = sorted(sink.times)
    received = len(times)
    span = (times[-1] - times[0]) if received > 1 else 0.0
    return {
        "received": received,
        "steady_seconds": span,
        "per_second": (received - 1) / span if span else 0.0,
        "wall_seconds": wall,
        "per_second_with_start": received / wall if wall else 0.0,
        "outputs": [out.strip().splitlines()[-1:] for out, _err in outputs],
    }


def _baseline_email(sink: Sink, count: int) -> dict[str, Any]:
    """One process; for each due e-mail delivery: build it, send it on a new SMTP connection
    (Django's ``EmailMessage.send()``), save the row."""
    from django.conf import settings
    from django.utils import timezone

    from cityhall.notices.channels import email
    from cityhall.notices.channels.base import Outgoing
    from cityhall.notices.models import Delivery
    from cityhall.notices.services import common

    settings.EMAIL_PORT = sink.port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    sink.reset()
    rows = list(
        Delivery.objects.filter(channel="email", state="queued")
        .select_related("user", "message")
        .order_by("id")[:count]
    )
    started = time.perf_counter()
    for row in rows:
        content = row.message.content.get(row.language) or row.message.content["ja"]
        item = Outgoing(
            key=str(row.key),
            delivery_id=row.pk,
            message_id=row.message_id,
            user_id=row.user_id,
            channel="email",
            addresses=[row.user.email],
            language=row.language,
            subject=content["subject"],
            body=content["body"].replace("((name))", row.user.display_name or "住民"),
            url=common.absolute_url("/my/"),
            urgent=True,
        )
        email.build(item).send()  # a new SMTP connection per message
        row.state = "sent"
        row.sent_at = timezone.now()
        row.attempts += 1
        row.save()
    elapsed = time.perf_counter() - started
    return {"sent": len(rows), "seconds": elapsed, "per_second": len(rows) / elapsed}


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url = resolve_database_url(args.database_url)
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL: only PostgreSQL (or nothing, for SQLite) is supported")
    with tempfile.TemporaryDirectory(prefix="cityhall-bench-alert-") as data_dir:
        setup_django(data_dir, database_url, **ENV)
        env = dict(os.environ)  # the same for the sending workers
        scratch = (
            scratch_postgres(
                database_url,
                holds_data_table="notices_delivery",
                what="deliveries",
                example="cityhall_bench_alert",
                refuse_empty_table=False,
            )
            if database_url
            else _nothing()
        )
        with scratch:
            return _run(args, env, database_url)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _run(args: argparse.Namespace, env: dict[str, str], database_url: str) -> dict[str, Any]:
    import django
    from django.db import connection

    prepared = _prepare(args.residents, args.seed)
    queued = _queue_alert(prepared["template"], prepared["staff"])
    targets = queued.pop("targets")
    naive_per_row = _naive_queue(
        prepared["template"], prepared["staff"], targets, args.naive_sample
    )
    bulk_per_row = _bulk_queue(prepared["template"], prepared["staff"], targets, args.bulk_sample)
    deliveries = queued["deliveries"]
    naive_total = naive_per_row * deliveries
    bulk_total = bulk_per_row * deliveries

    sink = Sink()
    try:
        from django.db import connections

        connections.close_all()
        sending = _workers(env, sink, args.workers, args.emails)
        baseline = _baseline_email(sink, args.baseline_emails)
    finally:
        sink.stop()

    engine = connection.vendor
    version = getattr(connection, "pg_version", None) if engine == "postgresql" else None
    queue_seconds = queued["seconds"]
    emails_per_second = sending["per_second"]
    meets = queue_seconds <= GOAL_QUEUE_SECONDS and emails_per_second >= GOAL_EMAILS_PER_SECOND
    message = queued.pop("message")
    return {
        "benchmark": "alert_fanout",
        "variant": engine,
        "metric": "seconds to queue a whole-city alert; e-mails/s with two workers",
        "value": round(queue_seconds, 2),
        "baseline": round(naive_total, 1),
        "baseline_name": (
            f"naive: Delivery.objects.create per row, autocommit ({args.naive_sample} rows "
            "timed, extrapolated)"
        ),
        "ratio": round(naive_total / queue_seconds, 1),
        "other_baselines": [
            {
                "name": f"Django bulk_create, one transaction ({args.bulk_sample} rows timed, "
                "extrapolated)",
                "seconds": round(bulk_total, 2),
                "ratio": round(bulk_total / queue_seconds, 2),
            }
        ],
        "queue": {
            "seconds": round(queue_seconds, 3),
            "deliveries": deliveries,
            "recipients": queued["recipients"],
            "per_channel": queued["per_channel"],
            "resolve_seconds": round(queued["resolve_seconds"], 3),
            "reachable_seconds": round(queued["reachable_seconds"], 3),
            "message_id": message.pk,
            "goal_seconds": GOAL_QUEUE_SECONDS,
            "meets_goal": queue_seconds <= GOAL_QUEUE_SECONDS,
        },
        "email": {
            "workers": args.workers,
            "sent": sending["received"],
            "per_second": round(emails_per_second, 1),
            "steady_seconds": round(sending["steady_seconds"], 2),
            "wall_seconds_with_process_start": round(sending["wall_seconds"], 2),
            "per_second_with_process_start": round(sending["per_second_with_start"], 1),
            "baseline_name": "one process, one SMTP connection per message, row saved each time",
            "baseline_sent": baseline["sent"],
            "baseline_per_second": round(baseline["per_second"], 1),
            "ratio": round(emails_per_second / baseline["per_second"], 1)
            if baseline["per_second"]
            else None,
            "goal_per_second": GOAL_EMAILS_PER_SECOND,
            "meets_goal": emails_per_second >= GOAL_EMAILS_PER_SECOND,
            "worker_output": sending["outputs"],
        },
        "meets_goal": meets,
        "residents": args.residents,
        "accounts": prepared["accounts"],
        "seed_seconds": round(prepared["seeded"], 1),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "database": engine,
            "database_version": version,
            "django": django.get_version(),
            "platform": platform.platform(),
            "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database_url_set": bool(database_url),
    }


def table(result: dict[str, Any]) -> str:
    q, e = result["queue"], result["email"]
    mark = lambda ok: "met" if ok else "✗ MISSED"  # noqa: E731
    rows = [
        ("database", result["variant"], f"{result['accounts']:,} accounts seeded"),
        (
            "alert queued (cityhall)",
            f"{q['seconds']:.2f} s",
            f"{q['deliveries']:,} deliveries to {q['recipients']:,} residents; "
            f"goal ≤ {q['goal_seconds']:.0f} s: {mark(q['meets_goal'])}",
        ),
        (
            "  of which resolve",
            f"{q['resolve_seconds']:.2f} s",
            "consent + districts (timed alone)",
        ),
        ("  of which reachable", f"{q['reachable_seconds']:.2f} s", "channels (timed alone)"),
        ("baseline: naive create()", f"{result['baseline']:.1f} s", result["baseline_name"]),
        ("ratio (naive / cityhall)", f"{result['ratio']:.1f}×", "higher is better"),
    ]
    for other in result["other_baselines"]:
        rows.append(("baseline: bulk_create", f"{other['seconds']:.1f} s", other["name"]))
        rows.append(("ratio (bulk_create / cityhall)", f"{other['ratio']:.2f}×", ""))
    rows += [
        (
            f"e-mail, {e['workers']} workers",
            f"{e['per_second']:.0f} /s",
            f"{e['sent']:,} e-mails in {e['steady_seconds']:.1f} s (first→last received); "
            f"goal ≥ {e['goal_per_second']:.0f}/s: {mark(e['meets_goal'])}",
        ),
        (
            "  with process start",
            f"{e['per_second_with_process_start']:.0f} /s",
            f"{e['wall_seconds_with_process_start']:.1f} s wall",
        ),
        (
            "baseline: 1 conn/message",
            f"{e['baseline_per_second']:.0f} /s",
            f"{e['baseline_sent']:,} e-mails, {e['baseline_name']}",
        ),
        ("ratio (cityhall / baseline)", f"{e['ratio']}×", "higher is better"),
    ]
    m = result["machine"]
    rows.append(
        (
            "machine",
            f"{m['cpu_count']} CPUs",
            f"Python {m['python']}, Django {m['django']}, load {m['load_average_1m']}",
        )
    )
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [
        f"{'metric':<{width}}  {'value':>{value_width}}  notes",
        "-" * (width + value_width + 60),
    ]
    lines += [f"{a:<{width}}  {b:>{value_width}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=83335, help="Persons to seed (83335).")
    parser.add_argument("--seed", type=int, default=2004, help="Random seed (2004).")
    parser.add_argument(
        "--emails", type=int, default=20000, help="E-mails the workers send (20000)."
    )
    parser.add_argument("--workers", type=int, default=2, help="Sending processes (2).")
    parser.add_argument(
        "--baseline-emails", type=int, default=1000, help="E-mails for the baseline (1000)."
    )
    parser.add_argument(
        "--naive-sample", type=int, default=2000, help="Rows for the naive baseline (2000)."
    )
    parser.add_argument(
        "--bulk-sample", type=int, default=20000, help="Rows for the bulk_create baseline (20000)."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL scratch database (default: $DATABASE_URL; empty: SQLite).",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="Where to write the JSON.")
    args = parser.parse_args(argv)
    result = run(args)
    print(table(result))
    keep_latest_run(
        "alert_fanout",
        result,
        args.output,
        goal_queue_seconds=GOAL_QUEUE_SECONDS,
        goal_emails_per_second=GOAL_EMAILS_PER_SECOND,
    )
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
