"""Shared data for the resident's payment pages, API and browser tests (no tests here)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from cityhall.payments.models import Charge, PaymentNotice
from tests.conftest import make_resident, make_staff
from tests.payments.factories import make_charge, make_kind, notice_of


@dataclass
class World:
    resident: Any
    other: Any
    staff: Any
    tax: Charge  # two installments, both still to come
    kokuho: Charge  # one installment, overdue
    fee: Charge  # a small fee that can be paid online
    water: Charge  # a charge of another resident
    charges: dict[str, Charge] = field(default_factory=dict)

    @property
    def overdue_notice(self) -> PaymentNotice:
        return notice_of(self.kokuho, 1)

    @property
    def due_notice(self) -> PaymentNotice:
        return notice_of(self.tax, 1)

    @property
    def fee_notice(self) -> PaymentNotice:
        return notice_of(self.fee, 1)

    @property
    def others_notice(self) -> PaymentNotice:
        return notice_of(self.water, 1)


def build_world() -> World:
    today = timezone.localdate()
    resident = make_resident("hanako@example.jp")
    other = make_resident("taro@example.jp")
    staff = make_staff("shuno@city.iga.example", "clerk", "shuno")
    tax = make_charge(
        kind=make_kind(),
        resident=resident,
        amounts=(123_400, 98_700),
        first_due=today + dt.timedelta(days=40),  # the factory moves it to the 28th
        fiscal_year=today.year,
        payer_key="000000000123",
    )
    kokuho = make_charge(
        kind=make_kind(
            "kokumin-kenko-hoken",
            tax_code="021",
            department_code="hoken-nenkin",
            name="国民健康保険料",
            is_tax=False,
        ),
        resident=resident,
        amounts=(45_600,),
        first_due=today - dt.timedelta(days=40),  # the 28th of that month: always past
        fiscal_year=today.year,
        payer_key="000000000123",
    )
    fee = make_charge(
        kind=make_kind(
            "shomei-tesuryo",
            tax_code="901",
            department_code="shimin-seikatsu",
            name="証明書交付手数料",
            online_allowed=True,
            is_tax=False,
        ),
        resident=resident,
        amounts=(900,),
        first_due=today + dt.timedelta(days=40),
        fiscal_year=today.year,
        payer_key="000000000123",
    )
    water = make_charge(
        kind=make_kind(
            "suido-ryokin", tax_code="701", department_code="jougesuido", name="水道料金"
        ),
        resident=other,
        amounts=(4_321,),
        first_due=today + dt.timedelta(days=40),
        fiscal_year=today.year,
        payer_key="000000000999",
        payer_name="伊賀 太郎",
    )
    return World(resident, other, staff, tax, kokuho, fee, water)


def svg_of(html: str) -> str:
    """The eL-QR's inline SVG on a slip page."""
    match = re.search(r'<figure class="elqr-box" id="elqr">(<svg.*?</svg>)', html, re.S)
    assert match, "no eL-QR SVG on the page"
    return match.group(1)


def rasterise(svg: str, *, px: int = 8) -> Any:
    """Draw the SVG's path of unit rectangles (``M x y h n v1 h-n z``) into a PIL image."""
    from PIL import Image, ImageDraw

    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert box, "the QR SVG has no viewBox"
    size = int(box.group(1))
    image = Image.new("L", (size * px, size * px), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path fill="#000" d="([^"]+)"', svg)
    assert path, "the QR SVG has no dark path"
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path.group(1))
    assert runs
    for x, y, n in runs:
        x0, y0 = int(x) * px, int(y) * px
        draw.rectangle([x0, y0, x0 + int(n) * px - 1, y0 + px - 1], fill=0)
    return image
