"""``cityhall generate_vapid_key``: a new VAPID key pair for web push (RFC 8292).

Prints the private key (for ``CITYHALL_VAPID_PRIVATE_KEY``, keep it secret) and the
public key browsers will be given. Changing the key invalidates every existing browser
subscription: residents then have to turn notifications on again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cityhall.notices.webpush import vapid


class Command(BaseCommand):
    help = "Make a new VAPID key pair for web push and print it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--env",
            action="store_true",
            help="Print only the line CITYHALL_VAPID_PRIVATE_KEY=… (for an environment file).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = vapid.generate_private_key()
        private = vapid.private_key_b64url(key)
        if options["env"]:
            self.stdout.write(f"CITYHALL_VAPID_PRIVATE_KEY={private}")
            return
        self.stdout.write(f"CITYHALL_VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"# public key (applicationServerKey): {vapid.public_key_b64url(key)}")
        self.stdout.write(
            "# Keep the private key secret. Changing it makes every browser subscribe again."
        )
