"""Model fields whose values are encrypted at rest."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import models

from cityhall.core import crypto


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token. Not searchable or sortable by design."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))


class EncryptedDateField(models.TextField):
    """A date stored encrypted; reads back as :class:`datetime.date`."""

    description = "Date encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dt.date | None:
        if not value:
            return None
        return dt.date.fromisoformat(crypto.decrypt(value))

    def to_python(self, value: Any) -> dt.date | None:
        if value is None or value == "" or isinstance(value, dt.date):
            return value or None
        return dt.date.fromisoformat(str(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return crypto.encrypt(value.isoformat())


class EncryptedJSONField(models.TextField):
    """A JSON value (dict or list) stored as one Fernet token. Not queryable by design."""

    description = "JSON encrypted at rest"
    # For django-stubs: the attribute holds any JSON value, not text.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None
        return json.loads(crypto.decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, default=str)
