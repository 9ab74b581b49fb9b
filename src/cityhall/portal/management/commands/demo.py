"""``cityhall demo``: Iga's digital city hall on this machine, with demo data.

Migrates the database, seeds it when it is empty (geography, departments, demo staff and
residents), prints the demo logins, then runs a background worker (``cityhall worker``)
and the web server on 127.0.0.1. Ctrl-C stops both.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from io import StringIO
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core.models import Area
from cityhall.notices.demo import seed_demo_notices
from cityhall.payments.demo import seed_demo_payments
from cityhall.people.models import Department, User
from cityhall.people.seed import DEFAULT_SEED, DEMO_DEVICE_NAME, SeedRefused, demo_data, run_seed
from cityhall.procedures.demo import seed_demo_applications
from cityhall.procedures.seed import load_procedures

HOST = "127.0.0.1"


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, seed Iga's data and the demo accounts if the database is "
        "empty, print the logins, then start a worker and the web server on 127.0.0.1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web server port (8000).")
        parser.add_argument(
            "--residents",
            type=int,
            default=None,
            metavar="N",
            help="Also seed N synthetic residents (83335 for all of Iga; takes a while).",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Prepare the database and print the logins, then exit.",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start a background worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("the demo never runs with CITYHALL_ENV=production")
        port: int = options["port"]
        if not options["no_serve"] and not _port_free(port):
            raise CommandError(f"port {port} on {HOST} is in use: choose another with --port")

        self.stdout.write("Preparing the database …")
        call_command("migrate", interactive=False, verbosity=0)
        if self._needs_seed() or options["residents"] is not None:
            self.stdout.write("Loading Iga's data and the demo accounts …")
            try:
                report = run_seed(residents=options["residents"], seed=options["seed"])
            except SeedRefused as exc:
                raise CommandError(str(exc)) from exc
            for line in report.lines():
                self.stdout.write("  " + line)
        counts = load_procedures()
        self.stdout.write(f"  {'procedures':<22} {counts}")
        demo_counts = seed_demo_applications()
        if demo_counts:
            self.stdout.write(f"  {'demo applications':<22} {demo_counts} created")
        payment_counts = seed_demo_payments()
        if payment_counts.get("charges"):
            summary = ", ".join(f"{v} {k}" for k, v in payment_counts.items())
            self.stdout.write(f"  {'demo payments':<22} {summary}")
        notice_counts = seed_demo_notices()
        if any(notice_counts.values()):
            summary = ", ".join(f"{v} {k}" for k, v in notice_counts.items())
            self.stdout.write(f"  {'demo news':<22} {summary}")
        for command, label in (
            ("seed_faq", "FAQ"),
            ("seed_inquiries", "routing and templates"),
            ("seed_bookings", "booking services"),
            ("seed_demo_inquiries", "demo inquiries"),
            ("seed_demo_bookings", "demo bookings"),
        ):
            out = StringIO()
            call_command(command, stdout=out)
            summary = " ".join(out.getvalue().split())
            self.stdout.write(f"  {label:<22} {summary}")
        self._print_logins(port)
        if options["no_serve"]:
            return
        self._serve(port, worker=not options["no_worker"])

    def _needs_seed(self) -> bool:
        emails = [member.email for member in demo_data().staff] + [
            person.email for person in demo_data().residents
        ]
        return (
            not Area.objects.exists()
            or not Department.objects.exists()
            or User.objects.filter(email__in=emails).count() < len(emails)
        )

    def _print_logins(self, port: int) -> None:
        data = demo_data()
        base = f"http://{HOST}:{port}"
        heading = self.style.MIGRATE_HEADING
        write = self.stdout.write
        write("")
        write(heading(f"cityhall demo — {settings.MUNICIPALITY_NAME}"))
        write(f"  Residents' site   {base}/")
        write(f"  Resident login    {base}{_url('people:login', '/account/login/')}")
        write(f"  Staff console     {base}{_url('staff:login', '/staff/login/')}")
        write(f"  My payments       {base}{_url('payments:mine', '/payments/')}")
        write("  Online payments use the built-in sandbox provider: no money moves.")
        write(f"  News              {base}{_url('notices:news', '/news/')}")
        write(f"  FAQ and chat      {base}{_url('inquiries:faq', '/faq/')}")
        write(f"  Book a visit      {base}{_url('inquiries:booking', '/booking/')}")
        write("  E-mails to residents are printed here (console backend), not sent.")
        write("")
        write(heading(f"Demo residents (password: {data.password})"))
        for person in data.residents:
            language = person.profile.get("preferred_language", "ja")
            write(f"  {person.email:<26} {language:<8} {person.display_name} — {person.note}")
        write("")
        write(
            heading(
                f"Demo staff (password: {data.password}, then the 6-digit code of an "
                "authenticator app)"
            )
        )
        devices = {
            device.user.email: device
            for device in TOTPDevice.objects.filter(
                name=DEMO_DEVICE_NAME, user__email__in=[m.email for m in data.staff]
            ).select_related("user")
        }
        departments = dict(Department.objects.values_list("code", "name"))
        for member in data.staff:
            department = departments.get(member.department, member.department)
            write(f"  {member.email:<26} {member.role:<8} {member.display_name}（{department}）")
            write(f"      TOTP secret  {member.totp_secret}")
            device = devices.get(member.email)
            if device is not None:
                write(f"      {device.config_url}")
        write("")
        write("  No authenticator app at hand? The current code of a demo account:")
        write("      cityhall totp-code clerk@city.iga.example")
        write("  E-mails are printed here by the worker (CITYHALL_EMAIL_BACKEND=console).")
        write(self.style.WARNING("  Demo data only: every person and secret above is fictional."))
        write("")

    def _serve(self, port: int, *, worker: bool) -> None:
        process: subprocess.Popen[bytes] | None = None
        if worker and settings.TASKS_BACKEND == "database":
            process = subprocess.Popen(  # the same interpreter and settings as this process
                [sys.executable, "-m", "cityhall.cli", "worker"], env=os.environ.copy()
            )
            self.stdout.write(f"Worker started (pid {process.pid}).")

        def stop(signum: int, frame: FrameType | None) -> None:
            raise SystemExit(0)

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            call_command(
                "runserver",
                f"{HOST}:{port}",
                use_reloader=False,
                use_threading=True,
                skip_checks=True,
            )
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if process is not None:
                self._stop_worker(process)

    def _stop_worker(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # the worker finishes its task and leaves
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.stdout.write(f"Worker stopped (exit {process.returncode}).")
