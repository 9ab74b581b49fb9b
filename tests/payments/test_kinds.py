"""The kinds of public money are configuration: loaded from data/kinds.json, idempotently."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from cityhall.payments.models import PaymentKind
from cityhall.payments.services import kinds
from cityhall.people.seed import load_departments

pytestmark = pytest.mark.django_db

REQUIRED = {
    "kojin-juminzei": "個人住民税",
    "kotei-shisanzei": "固定資産税",
    "keijidoshazei": "軽自動車税",
    "kokuho": "国民健康保険",
    "kaigo-hokenryo": "介護保険料",
    "koki-koreisha": "後期高齢者医療保険料",
    "hoikuryo": "保育料",
    "suido": "水道料金",
    "shiei-jutaku": "市営住宅家賃",
    "tesuryo": "手数料",
}


def test_seeding_twice_creates_then_changes_nothing() -> None:
    load_departments()
    first = kinds.seed_payment_kinds()
    assert first.created == len(kinds.read_kinds()) >= len(REQUIRED)
    second = kinds.seed_payment_kinds()
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    for code, name in REQUIRED.items():
        kind = PaymentKind.objects.get(code=code)
        assert name in kind.name
        assert len(kind.tax_code) == 3 and kind.tax_code.isdigit()
        assert {"en", "pt-br", "vi", "zh-hans", "es"} <= set(kind.names)
    assert PaymentKind.objects.get(code="tesuryo").online_allowed is True
    assert PaymentKind.objects.get(code="kojin-juminzei").department.code == "zeimu"
    assert PaymentKind.objects.get(code="suido").department.code == "jougesuido"
    assert (
        PaymentKind.objects.get(code="kojin-juminzei")
        .localized_name("en")
        .startswith("Individual inhabitant tax")
    )


def test_an_edited_kind_is_brought_back_in_line() -> None:
    load_departments()
    kinds.seed_payment_kinds()
    PaymentKind.objects.filter(code="suido").update(tax_code="999", cvs_allowed=False)
    counts = kinds.seed_payment_kinds()
    assert counts.updated == 1
    kind = PaymentKind.objects.get(code="suido")
    assert kind.tax_code == "080" and kind.cvs_allowed is True


def test_schedules_fall_in_the_fiscal_year() -> None:
    load_departments()
    kinds.seed_payment_kinds()
    juminzei = PaymentKind.objects.get(code="kojin-juminzei")
    assert kinds.schedule(juminzei, 2026) == [
        (1, dt.date(2026, 6, 30)),
        (2, dt.date(2026, 8, 31)),
        (3, dt.date(2026, 10, 31)),
        (4, dt.date(2027, 1, 31)),
    ]
    kotei = PaymentKind.objects.get(code="kotei-shisanzei")
    assert [d for _p, d in kinds.schedule(kotei, 2027)] == [
        dt.date(2027, 4, 30),
        dt.date(2027, 7, 31),
        dt.date(2027, 12, 25),
        dt.date(2028, 2, 28),
    ]
    assert kinds.schedule(PaymentKind.objects.get(code="keijidoshazei"), 2026) == [
        (1, dt.date(2026, 5, 31))
    ]
    assert kinds.fiscal_year_of(dt.date(2027, 3, 31)) == 2026
    assert kinds.fiscal_year_of(dt.date(2027, 4, 1)) == 2027


def test_a_broken_file_writes_nothing_and_names_every_problem(tmp_path: Path) -> None:
    load_departments()
    items: list[dict[str, Any]] = kinds.read_kinds()
    items[0] = {**items[0], "tax_code": "12"}
    items[1] = {**items[1], "department": "no-such-department"}
    items[2] = {**items[2], "installments": [{"period": 1, "month": 13, "day": 1}]}
    path = tmp_path / "kinds.json"
    path.write_text(json.dumps({"kinds": items}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(kinds.KindDataError) as caught:
        kinds.seed_payment_kinds(path)
    assert len(caught.value.problems) == 3
    assert "3 digits" in caught.value.problems[0]
    assert "no-such-department" in caught.value.problems[1]
    assert PaymentKind.objects.count() == 0


def test_the_management_command_reports_and_is_idempotent() -> None:
    load_departments()
    out = StringIO()
    call_command("seed_payment_kinds", stdout=out)
    assert "created" in out.getvalue() and "loaded" in out.getvalue()
    out = StringIO()
    call_command("seed_payment_kinds", stdout=out)
    assert "nothing changed" in out.getvalue()


def test_get_kind_loads_a_missing_kind_from_the_file() -> None:
    load_departments()
    kind = kinds.get_kind("tesuryo")
    assert kind.tax_code == "100" and kind.online_allowed
    assert PaymentKind.objects.count() == 1
    with pytest.raises(PaymentKind.DoesNotExist):
        kinds.get_kind("no-such-kind")
