"""``cityhall export-config-docs PATH``: write the operator's settings reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cityhall.core.env import render_markdown


class Command(BaseCommand):
    help = "Write docs/configuration.md from the settings declared in code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default="docs/configuration.md")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(options["path"]).write_text(render_markdown(), encoding="utf-8")
        self.stdout.write(f"wrote {options['path']}")
