"""``cityhall generate-key``: print a new Fernet key for CITYHALL_FIELD_ENCRYPTION_KEYS."""

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new key for CITYHALL_FIELD_ENCRYPTION_KEYS (or any other secret)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(Fernet.generate_key().decode())
