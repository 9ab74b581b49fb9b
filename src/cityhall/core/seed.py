"""The city's geography and public buildings, loaded from ``data/iga.json``.

:func:`load_geography` upserts the former municipalities (旧市町村), the
住民自治協議会 (districts) and the facilities by their ``code``: rows are created
or brought in line with the file, never deleted, and a second run changes
nothing. Another municipality loads its own file with ``load_geography(path)``.
Where the facts come from, and which names are unconfirmed: docs/adr/0004-seed-data.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.db import models, transaction

from cityhall.core.models import Area, District, Facility

DATA_DIR = Path(__file__).resolve().parent / "data"
IGA_FILE = DATA_DIR / "iga.json"

Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class Counts:
    """How many rows a load created, updated or left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def upsert(
    model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, Outcome]:
    """Create the row found by ``lookup``, or save only the fields that differ from ``values``.

    Foreign keys are given by their ``*_id`` attribute so that comparing costs no query.
    """
    manager = model._default_manager
    obj = manager.filter(**lookup).first()
    if obj is None:
        return manager.create(**lookup, **values), "created"
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    obj.save(update_fields=[model._meta.get_field(name).name for name in changed])
    return obj, "updated"


def read_data(path: Path | None = None) -> dict[str, Any]:
    with (path or IGA_FILE).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _names(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": item["name"],
        "kana": item.get("kana", ""),
        "names": dict(item.get("names", {})),
    }


@transaction.atomic
def load_geography(path: Path | None = None) -> dict[str, Counts]:
    """Upsert areas, districts and facilities from the data file; return what changed."""
    data = read_data(path)
    result = {"areas": Counts(), "districts": Counts(), "facilities": Counts()}

    area_ids: dict[str, int] = {}
    for item in data["areas"]:
        area, outcome = upsert(
            Area, {"code": item["code"]}, {**_names(item), "order": int(item["order"])}
        )
        area_ids[area.code] = area.pk
        result["areas"].add(outcome)

    district_ids: dict[str, int] = dict(District.objects.values_list("code", "id"))
    for item in data["districts"]:
        district, outcome = upsert(
            District,
            {"code": item["code"]},
            {
                **_names(item),
                "area_id": area_ids[item["area"]],
                "order": int(item["order"]),
                "population_share": float(item["population_share"]),
                "name_confirmed": bool(item.get("name_confirmed", True)),
            },
        )
        district_ids[district.code] = district.pk
        result["districts"].add(outcome)

    for item in data["facilities"]:
        district_code = item.get("district")
        _, outcome = upsert(
            Facility,
            {"code": item["code"]},
            {
                **_names(item),
                "kind": item["kind"],
                "district_id": district_ids[district_code] if district_code else None,
                "postal_code": item.get("postal_code", ""),
                "address": item.get("address", ""),
                "phone": item.get("phone", ""),
                "opening_hours": item.get("opening_hours", ""),
                "services": list(item.get("services", [])),
                "name_confirmed": bool(item.get("name_confirmed", True)),
            },
        )
        result["facilities"].add(outcome)
    return result


def district_shares() -> list[tuple[int, float]]:
    """(district id, population share) for every district, in the districts' order.

    Shares that do not sum to 1 are scaled; all zero (a city without estimates) means equal.
    """
    rows = list(
        District.objects.order_by("area__order", "order", "id").values_list(
            "id", "population_share"
        )
    )
    total = sum(max(share, 0.0) for _, share in rows)
    if total <= 0:
        return [(pk, 1 / len(rows)) for pk, _ in rows] if rows else []
    return [(pk, max(share, 0.0) / total) for pk, share in rows]
