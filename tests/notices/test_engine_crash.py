"""At most once, for real: a `cityhall send_notices` process is SIGKILLed while the SMTP
server is receiving its e-mails, then a new worker resumes.

The worker runs in its own process on its own SQLite file (a fresh city in a temporary
directory), against an aiosmtpd server in this process that kills the worker when the
N-th e-mail arrives — before answering 250, so the worker dies mid-conversation, with a
sub-batch marked ``sending`` and the rest of its batch ``claimed``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from tests.conftest import SmtpSink, free_port

ROOT = Path(__file__).resolve().parents[2]
RESIDENTS = 120
KILL_AT = 60  # the 10th e-mail of the worker's second sub-batch (sub-batches of 50)

SETUP = """
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone
from cityhall.notices.models import MessageTemplate
from cityhall.notices.services import messages
from cityhall.people.models import Consent, ResidentProfile, User

call_command("migrate", verbosity=0)
now = timezone.now()
for i in range(%(residents)d):
    user = User.objects.create_user(email=f"r{i:03d}@example.jp", password=None)
    ResidentProfile.objects.create(user=user, channels=["email"], interests=["events"])
    Consent.objects.create(user=user, purpose="notify", granted=True, created_at=now)
template = MessageTemplate.objects.create(
    code="t", name="t", topic="events",
    content={"ja": {"subject": "((event))", "body": "((name)) さん、((event))"}},
)
staff = User.objects.create_user(email="koho@city.iga.example", password=None, is_staff=True)
message = messages.create_message(template=template, values={"event": "祭り"}, filters={},
                                  actor=staff)
print("queued", message.recipients)
"""


def _env(data_dir: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="cityhall.settings",
        CITYHALL_DATA_DIR=str(data_dir),
        CITYHALL_TASKS_BACKEND="database",  # nothing runs the tasks: only our workers send
        CITYHALL_CACHE_URL="locmem://",
        CITYHALL_EMAIL_BACKEND="smtp",
        CITYHALL_EMAIL_HOST="127.0.0.1",
        CITYHALL_EMAIL_PORT=str(smtp_port),
        CITYHALL_NOTICES_EMAIL_FALLBACK="",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_sigkilled_worker_resumed_sends_each_email_at_most_once(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())
    worker: dict[str, Any] = {"process": None}
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with lock:
                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                process = worker["process"]
                if len(sink.messages) == KILL_AT and process is not None:
                    os.kill(process.pid, signal.SIGKILL)  # before the 250: mid-conversation
                    process.wait()
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        env = _env(tmp_path, sink.port)
        setup = _run([sys.executable, "-c", SETUP % {"residents": RESIDENTS}], env)
        assert setup.returncode == 0, setup.stderr
        assert f"queued {RESIDENTS}" in setup.stdout

        command = [sys.executable, "-m", "cityhall.cli", "send_notices", "--once"]
        with lock:
            worker["process"] = subprocess.Popen(
                [*command, "--channel", "email", "--batch", "200"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        assert worker["process"].wait(timeout=300) == -signal.SIGKILL
        assert len(sink.messages) == KILL_AT

        database = tmp_path / "cityhall.sqlite3"

        def states() -> Counter[str]:
            with sqlite3.connect(database) as db:
                return Counter(
                    dict(db.execute("SELECT state, count(*) FROM notices_delivery GROUP BY state"))
                )

        # The dead worker: 50 sent, 50 handed over (10 of them reached the server), 20 taken.
        assert states() == {"sent": 50, "sending": 50, "claimed": 20}

        # A new worker, once the claim timeout has passed (0 here: the old one is dead).
        resumed = _run(command, _env(tmp_path, sink.port, CITYHALL_NOTICES_CLAIM_TIMEOUT="0"))
        assert resumed.returncode == 0, resumed.stderr + resumed.stdout
        assert "handled 20 deliveries" in resumed.stdout
    finally:
        controller.stop()

    received = Counter(str(m["To"]) for m in sink.messages)
    assert max(received.values()) == 1  # nobody got it twice
    assert states() == {"sent": 70, "unknown": 50}
    with sqlite3.connect(database) as db:
        sent = {
            email
            for (email,) in db.execute(
                "SELECT u.email FROM notices_delivery d JOIN people_user u ON u.id = d.user_id "
                "WHERE d.state = 'sent'"
            )
        }
        done = db.execute("SELECT state, stats FROM notices_message").fetchone()
    assert sent <= set(received)  # every delivery marked sent did arrive …
    assert len(received) == 80  # … the 70 sent, and 10 of the 50 whose outcome is unknown
    assert done[0] == "done"
    assert '"unknown": 50' in done[1] and '"sent": 70' in done[1]
