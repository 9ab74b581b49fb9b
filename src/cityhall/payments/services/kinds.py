"""Kinds of public money (公金の種類) as configuration, loaded from ``data/kinds.json``.

:func:`seed_payment_kinds` checks the whole file first (every department exists, codes
are unique, each 税目・料金番号 is three digits, schedules are valid) and raises
:class:`KindDataError` listing every problem without writing anything. Then, in one
transaction, it upserts the kinds by ``code``: a second run changes nothing, and a kind
left out of the file stays as it is (a clerk can deactivate it in the admin).

:func:`schedule` turns a kind's ordinary instalment rule into due dates for a fiscal
year (the 年度 starts in April; January–March belong to the next calendar year).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from django.db import transaction

from cityhall.core.seed import Counts, upsert
from cityhall.payments.models import PaymentKind
from cityhall.people.models import Department

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
KINDS_FILE = DATA_DIR / "kinds.json"
FEE_KIND = "tesuryo"  # 手数料: the kind of procedure fees
TAX_CODE = re.compile(r"^\d{3}$")


class KindDataError(ValueError):
    """The kinds file has problems; ``problems`` lists each of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("payment kinds file: " + "; ".join(problems))


def read_kinds(path: Path | None = None) -> list[dict[str, Any]]:
    with (path or KINDS_FILE).open(encoding="utf-8") as handle:
        data = json.load(handle)
    kinds: list[dict[str, Any]] = data["kinds"]
    return kinds


def _check(items: list[dict[str, Any]], departments: dict[str, int]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        code = str(item.get("code") or "")
        where = f"kind {index} ({code or '?'})"
        if not re.fullmatch(r"[a-z0-9-]{1,40}", code):
            problems.append(f"{where}: code must be 1–40 of a-z, 0-9 and '-'")
        if code in seen:
            problems.append(f"{where}: code is used twice")
        seen.add(code)
        if not item.get("name"):
            problems.append(f"{where}: name is missing")
        if not TAX_CODE.match(str(item.get("tax_code") or "")):
            problems.append(f"{where}: tax_code (税目・料金番号) must be 3 digits")
        if item.get("department") not in departments:
            problems.append(f"{where}: unknown department {item.get('department')!r}")
        periods: set[int] = set()
        for rule in item.get("installments") or []:
            try:
                period, month, day = int(rule["period"]), int(rule["month"]), int(rule["day"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"{where}: each installment needs integer period, month, day")
                continue
            if period < 1 or period > 99 or period in periods:
                problems.append(f"{where}: installment period {period} is invalid or repeated")
            periods.add(period)
            if not (1 <= month <= 12 and 1 <= day <= 31):
                problems.append(f"{where}: installment {period} has no valid month/day")
        names = item.get("names") or {}
        if not isinstance(names, dict):
            problems.append(f"{where}: names must be an object {{language: name}}")
    return problems


@transaction.atomic
def seed_payment_kinds(path: Path | None = None) -> Counts:
    """Upsert every kind of the file by code; nothing is written when the file has problems."""
    items = read_kinds(path)
    departments = dict(Department.objects.values_list("code", "id"))
    problems = _check(items, departments)
    if problems:
        raise KindDataError(problems)
    counts = Counts()
    for item in items:
        _, outcome = upsert(
            PaymentKind,
            {"code": item["code"]},
            {
                "name": item["name"],
                "kana": item.get("kana", ""),
                "names": dict(item.get("names") or {}),
                "tax_code": str(item["tax_code"]),
                "is_tax": bool(item.get("is_tax", False)),
                "department_id": departments[item["department"]],
                "account_code": item.get("account_code", ""),
                "installments": [
                    {"period": int(r["period"]), "month": int(r["month"]), "day": int(r["day"])}
                    for r in item.get("installments") or []
                ],
                "cvs_allowed": bool(item.get("cvs_allowed", True)),
                "online_allowed": bool(item.get("online_allowed", False)),
                "is_active": bool(item.get("is_active", True)),
            },
        )
        counts.add(outcome)
    return counts


def get_kind(code: str) -> PaymentKind:
    """The kind with ``code``; when it is missing, that one kind is loaded from the file
    (so a fresh database can take a procedure fee before ``cityhall seed`` ran)."""
    kind = PaymentKind.objects.filter(code=code).select_related("department").first()
    if kind is not None:
        return kind
    items = [item for item in read_kinds() if item.get("code") == code]
    if not items:
        raise PaymentKind.DoesNotExist(f"no payment kind {code!r}")
    department = Department.objects.filter(code=items[0]["department"]).first()
    if department is None:
        raise PaymentKind.DoesNotExist(
            f"payment kind {code!r} needs department {items[0]['department']!r}: run cityhall seed"
        )
    item = items[0]
    kind, _ = PaymentKind.objects.get_or_create(
        code=code,
        defaults={
            "name": item["name"],
            "kana": item.get("kana", ""),
            "names": dict(item.get("names") or {}),
            "tax_code": str(item["tax_code"]),
            "is_tax": bool(item.get("is_tax", False)),
            "department": department,
            "account_code": item.get("account_code", ""),
            "installments": list(item.get("installments") or []),
            "cvs_allowed": bool(item.get("cvs_allowed", True)),
            "online_allowed": bool(item.get("online_allowed", False)),
        },
    )
    return kind


def fiscal_year_of(day: dt.date) -> int:
    """The 年度 of a date: April to the next March."""
    return day.year if day.month >= 4 else day.year - 1


def schedule(kind: PaymentKind, fiscal_year: int) -> list[tuple[int, dt.date]]:
    """(period, due date) of the kind's ordinary schedule in ``fiscal_year``.

    Months 1–3 fall in the next calendar year; a day past the month's end is its last day.
    """
    out: list[tuple[int, dt.date]] = []
    for rule in kind.installments or []:
        month = int(rule["month"])
        year = fiscal_year + 1 if month < 4 else fiscal_year
        day = min(int(rule["day"]), calendar.monthrange(year, month)[1])
        out.append((int(rule["period"]), dt.date(year, month, day)))
    return sorted(out)
