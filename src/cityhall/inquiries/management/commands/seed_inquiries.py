"""``cityhall seed_inquiries``: the routing rules and reply templates of
``inquiries/data/routing.json`` (Iga City's departments). Idempotent: rules are matched by
their words and department, templates by their title; a second run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from cityhall.inquiries.models import ReplyTemplate, RoutingRule
from cityhall.inquiries.services import routing
from cityhall.people.models import Department

DATA = Path(__file__).resolve().parents[2] / "data" / "routing.json"


def seed(path: Path = DATA) -> dict[str, int]:
    data = json.loads(path.read_text(encoding="utf-8"))
    departments = {d.code: d for d in Department.objects.all()}
    counts = {"rules": 0, "templates": 0, "skipped": 0}
    with transaction.atomic():
        for row in data["rules"]:
            department = departments.get(row["department"])
            if department is None:
                counts["skipped"] += 1
                continue
            _rule, created = RoutingRule.objects.get_or_create(
                words=row["words"],
                department=department,
                defaults={"priority": row.get("priority", 100)},
            )
            counts["rules"] += int(created)
        for row in data["templates"]:
            code = row.get("department")
            department = departments.get(code) if code else None
            if code and department is None:
                counts["skipped"] += 1
                continue
            _template, created = ReplyTemplate.objects.get_or_create(
                title=row["title"], defaults={"department": department, "bodies": row["bodies"]}
            )
            counts["templates"] += int(created)
    routing.invalidate()
    return counts


class Command(BaseCommand):
    help = "Create the routing rules and reply templates of the inquiries (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = seed()
        self.stdout.write(
            f"rules: {counts['rules']} new; templates: {counts['templates']} new; "
            f"skipped (unknown department): {counts['skipped']}"
        )
