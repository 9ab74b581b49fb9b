"""Shared data for the charges tests: the real kinds file, staff of three departments,
and charges files written the way a core system writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cityhall.payments.models import Charge
from cityhall.payments.services import charges, kinds
from cityhall.people.seed import load_departments
from tests.conftest import make_resident, make_staff

HEADER = "種別コード,賦課年度,課税年度,調定番号,宛名番号,氏名,カナ,郵便番号,住所,期別,金額,納期限"


def csv_row(
    kind: str = "kojin-juminzei",
    reference: str = "100001",
    payer_key: str = "000000000777",
    name: str = "伊賀 花子",
    kana: str = "イガ ハナコ",
    period: int | str = 1,
    amount: int | str = 12_300,
    due: str = "20260630",
    *,
    fiscal_year: int | str = 2026,
    tax_year: int | str = 2026,
    postal_code: str = "5180873",
    address: str = "三重県伊賀市上野丸之内116（架空）",
) -> str:
    return (
        f"{kind},{fiscal_year},{tax_year},{reference},{payer_key},{name},{kana},"
        f"{postal_code},{address},{period},{amount},{due}"
    )


def csv_file(rows: Iterable[str], *, encoding: str = "utf-8", header: str = HEADER) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return text.encode(encoding)


def juminzei_rows(
    reference: str = "100001", payer_key: str = "000000000777", name: str = "伊賀 花子"
) -> list[str]:
    dues = ("20260630", "20260831", "20261031", "20270131")
    return [
        csv_row(reference=reference, payer_key=payer_key, name=name, period=p, due=due)
        for p, due in enumerate(dues, start=1)
    ]


def many_rows(charges_count: int, per_charge: int = 4, *, start: int = 500_000) -> list[str]:
    dues = ("20260630", "20260831", "20261031", "20270131")
    return [
        csv_row(
            reference=str(start + n),
            payer_key=f"{800_000_000 + n:012d}",
            name=f"試験 太郎{n}",
            kana="ｼｹﾝ ﾀﾛｳ",
            period=p,
            amount=1_000 + n,
            due=dues[p - 1],
        )
        for n in range(charges_count)
        for p in range(1, per_charge + 1)
    ]


@dataclass
class World:
    central: Any  # 収納課 clerk: sees everything
    zeimu: Any  # 税務課 clerk: 住民税, 固定資産税, 軽自動車税
    water: Any  # 上下水道部 clerk: 水道料金
    resident: Any
    other_resident: Any
    juminzei: Charge
    water_charge: Charge
    other_charge: Charge


def seed_kinds() -> None:
    load_departments()
    kinds.seed_payment_kinds()


def make(
    kind: str,
    reference: str,
    *,
    payer_key: str = "000000000777",
    name: str = "伊賀 花子",
    kana: str = "イガ ハナコ",
    amounts: Sequence[int] = (12_300, 12_300),
    resident: Any = None,
    first_due: dt.date = dt.date(2026, 6, 30),
) -> Charge:
    return charges.create_charge(
        kind=kind,
        fiscal_year=2026,
        tax_year=2026,
        reference=reference,
        payer={"key": payer_key, "name": name, "kana": kana, "postal_code": "5180873"},
        installments=[
            (p, amount, first_due + dt.timedelta(days=31 * (p - 1)))
            for p, amount in enumerate(amounts, start=1)
        ],
        source=Charge.Source.IMPORT,
        resident=resident,
    )


def build_world() -> World:
    seed_kinds()
    resident = make_resident("hanako@example.jp")
    other = make_resident("taro@example.jp")
    return World(
        central=make_staff("shuno@city.iga.example", "clerk", "shuno"),
        zeimu=make_staff("zeimu@city.iga.example", "clerk", "zeimu"),
        water=make_staff("suido@city.iga.example", "clerk", "jougesuido"),
        resident=resident,
        other_resident=other,
        juminzei=make("kojin-juminzei", "100001", resident=resident),
        water_charge=make(
            "suido", "400001", payer_key="000000000888", name="上野 一郎", kana="ウエノ イチロウ"
        ),
        other_charge=make(
            "keijidoshazei",
            "300001",
            payer_key="000000000999",
            name="島ヶ原 太郎",
            kana="シマガハラ タロウ",
            amounts=(10_800,),
            resident=other,
        ),
    )
