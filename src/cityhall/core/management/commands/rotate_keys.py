"""``cityhall rotate-keys``: re-encrypt every encrypted field under the first key."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import TextField, Value

from cityhall.core import crypto
from cityhall.core.fields import EncryptedDateField, EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt sensitive fields with the first key of CITYHALL_FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        quote = connection.ops.quote_name
        for model in apps.get_models():
            fields = [
                f
                for f in model._meta.concrete_fields
                if isinstance(f, EncryptedTextField | EncryptedDateField)
            ]
            if not fields:
                continue
            pk = model._meta.pk
            assert pk is not None
            columns = ", ".join(quote(str(f.column)) for f in fields)
            sql = f"SELECT {quote(str(pk.column))}, {columns} FROM {quote(model._meta.db_table)}"  # noqa: S608
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
            with transaction.atomic():
                for key, *tokens in rows:
                    update = {
                        f.attname: Value(crypto.rotate(token), output_field=TextField())
                        for f, token in zip(fields, tokens, strict=True)
                        if token
                    }
                    if update:
                        model._default_manager.filter(pk=key).update(**update)
                        total += 1
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {total} rows"))
