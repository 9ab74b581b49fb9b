"""``cityhall totp-code EMAIL``: the current TOTP code of a demo staff account.

For demonstrations and local development only: it answers for the seeded demo staff
(whose secrets are public in ``people/data/demo.json``) and, in development, for any
account; in production it refuses every other account.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.people.models import User
from cityhall.people.seed import DEMO_DEVICE_NAME, is_demo_staff


class Command(BaseCommand):
    help = (
        "Print the current TOTP code of a demo staff account (the seeded demo accounts, "
        "or any account when CITYHALL_ENV=development or CITYHALL_DEBUG is on)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="E-mail address of the staff account.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"no account {email}")
        development = settings.DEBUG or settings.ENVIRONMENT == "development"
        if not (is_demo_staff(user) or development):
            raise CommandError(
                f"{email} is not a seeded demo account: codes are shown only for the demo "
                "accounts, or for any account in development"
            )
        devices = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")
        device = devices.filter(name=DEMO_DEVICE_NAME).first() or devices.first()
        if device is None:
            raise CommandError(f"{email} has no confirmed TOTP device")
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(str(code).zfill(device.digits))
        if options["verbosity"] > 1:
            self.stderr.write(f"valid for {left} more seconds")
