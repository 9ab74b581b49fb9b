"""``cityhall seed_notice_templates``: load the preset message templates.

The emergency presets (防災・避難情報: 警戒レベル3–5, 避難所開設, 大雨・洪水警報, 断水,
解除, 熊の出没) in seven languages and a few news templates, from ``notices/data/``.
Every preset is checked first (nothing is written when one is wrong); then they are
upserted by code, so running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cityhall.notices.services.templates import TemplateError, seed_templates


class Command(BaseCommand):
    help = "Load the preset message templates (emergency alerts and news). Upserts by code."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            changed = seed_templates()
        except TemplateError as exc:
            raise CommandError(
                "\n".join(f"{key}: {m}" for key, ms in exc.errors.items() for m in ms)
            ) from exc
        self.stdout.write(f"{'message templates':<22} {changed} created or updated")
        verdict = "loaded" if changed else "already up to date, nothing changed"
        self.stdout.write(self.style.SUCCESS(verdict))
