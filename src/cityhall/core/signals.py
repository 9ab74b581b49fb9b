"""Create the database cache table after migrations when the cache lives in the database."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def create_cache_table(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "label", "") != "core":
        return
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("DatabaseCache"):
        call_command("createcachetable", database=using, verbosity=0)
