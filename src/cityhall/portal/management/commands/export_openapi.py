"""``cityhall export-openapi PATH``: write the OpenAPI document of /api/v1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def openapi_json() -> str:
    from cityhall.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI document (committed at docs/openapi.json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default="docs/openapi.json")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(options["path"]).write_text(openapi_json(), encoding="utf-8")
        self.stdout.write(f"wrote {options['path']}")
