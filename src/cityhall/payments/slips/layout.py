"""Geometry and wording of the A4 納付書 page (one place for every position and size).

All positions are in millimetres from the page's TOP-LEFT corner, as a designer
measures them on paper; :func:`x` and :func:`y` turn them into PDF points (origin
bottom left). The page (A4 portrait, 210 × 297 mm):

- 0–93 mm, the letter: the payer's address in the window of a 長形3号 envelope
  (window 23–113 mm from the left, 12–57 mm from the top, A4 folded in three),
  the issuer and date on the right, the title, how to pay;
- three parts separated by cut lines (切り取り線): 領収証書 (93–153 mm, the payer
  keeps it), 納付書 (153–237 mm, the bank or store keeps it: the eL-QR, the eL番号,
  the convenience-store barcode), 領収済通知書 (237–292 mm, goes back to the city).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

MM = 72 / 25.4
PAGE_W_MM = 210.0
PAGE_H_MM = 297.0
PAGE_W = PAGE_W_MM * MM
PAGE_H = PAGE_H_MM * MM
# One device pixel at 300 dpi, in points: the codes are placed on this grid (from the
# top-left corner, as rasterisers count pixels) so their modules fall on whole dots.
DOT = 72 / 300

GOTHIC = "HeiseiKakuGo-W5"  # headings and labels (ReportLab's built-in CID fonts)
MINCHO = "HeiseiMin-W3"  # text
DIGITS = "Helvetica"  # numbers (a standard PDF font: nothing to embed)
DIGITS_BOLD = "Helvetica-Bold"


def x(mm_from_left: float) -> float:
    return mm_from_left * MM


def y(mm_from_top: float) -> float:
    return PAGE_H - mm_from_top * MM


def snap_x(points: float) -> float:
    """The nearest 300-dpi dot boundary, counted from the left edge."""
    return round(points / DOT) * DOT


def snap_y(points: float) -> float:
    """The nearest 300-dpi dot boundary, counted from the top edge."""
    return PAGE_H - round((PAGE_H - points) / DOT) * DOT


# --- the letter (window envelope) ---------------------------------------------------------

ADDRESS_LEFT = 26.0  # inside the 長3 window (23–113 mm) with a 3 mm margin
ADDRESS_POSTAL_TOP = 19.0
ADDRESS_FIRST_LINE_TOP = 25.5
ADDRESS_LINE_MM = 5.0
ADDRESS_MAX_LINES = 3
ADDRESS_WIDTH_MM = 84.0  # text never leaves the window
NAME_TOP = 44.0
NAME_SIZE = 13.0
REFERENCE_TOP = 52.0
ISSUER_RIGHT = 200.0
ISSUED_ON_TOP = 18.0
ISSUER_TOP = 24.0
CONTACT_TOP = 29.5
TITLE_LEFT = 14.0
TITLE_TOP = 66.0
REISSUE_BOX = (168.0, 59.0, 32.0, 9.0)  # left, top, width, height
HOWTO_TOP = 73.0

# --- the three parts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    title: str
    keeper: str  # who keeps it
    top: float
    height: float


PARTS = (
    Part("領収証書", "（納付者保管）", 93.0, 60.0),
    Part("納付書", "（金融機関・コンビニエンスストア保管）", 153.0, 84.0),
    Part("領収済通知書", "（金融機関から市へ送付）", 237.0, 55.0),
)
CUT_LINES = (93.0, 153.0, 237.0)
LEFT = 10.0
RIGHT = 200.0
TABLE_LEFT = 12.0
TABLE_LABEL_W = 22.0
TABLE_RIGHT = 112.0
TABLE_TOP = 10.5  # below the part's top
ROW_MM = 6.4
ROWS = ("科目", "年度・期別", "通知書番号", "納期限", "金額", "宛名", "発行者")
STAMP = (168.0, 14.0, 30.0, 30.0)  # 領収日付印: left, top (below the part's top), w, h

# 納付書 part: the codes (tops below the part's top)
QR_LEFT = 118.0
QR_TOP = 9.0
QR_MODULE = 6 * DOT  # 1.44 pt = 0.508 mm: 6 dots at 300 dpi; symbol + quiet zone 24.9 mm
QR_CAPTION = "地方税統一QRコード（eL-QR）"
QR_CAPTION_TOP = 37.0
EL_LEFT = 152.0
EL_TOP = 10.5
EL_ITEMS = ("共通納税機関コード", "案件特定キー", "確認番号", "税目・料金番号")
BARCODE_LEFT = 118.0  # left edge of the quiet zone
BARCODE_TOP = 44.0  # top of the bars
BARCODE_TEXT_GAP = 3.2  # baseline of the digits below the bars
PAY_BY_TOP = 66.0
NO_CVS_TOP = 50.0


# --- wording ------------------------------------------------------------------------------

REIWA = dt.date(2019, 5, 1)
HEISEI = dt.date(1989, 1, 8)


def era_year(year: int, *, fiscal: bool = False, on: dt.date | None = None) -> str:
    """``令和8年`` (``令和元年`` for the first year). A fiscal year (年度) is named after
    the era of its April; a date after the era it falls in."""
    if on is None:
        on = dt.date(year, 4, 1) if fiscal else dt.date(year, 12, 31)
    if on >= REIWA or (fiscal and year >= 2019):
        era, n = "令和", year - 2018
    elif on >= HEISEI:
        era, n = "平成", year - 1988
    else:
        return f"{year}年"
    return f"{era}{'元' if n == 1 else n}年"


def date_ja(day: dt.date) -> str:
    """``令和8年10月31日``."""
    return f"{era_year(day.year, on=day)}{day.month}月{day.day}日"


def fiscal_ja(fiscal_year: int) -> str:
    """``令和8年度``."""
    return f"{era_year(fiscal_year, fiscal=True)}度"


def yen(amount: int) -> str:
    """``¥12,345`` (integer yen only)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError("amounts are non-negative integer yen")
    return f"¥{amount:,}"


def notice_number_grouped(notice_number: str) -> str:
    """The 20-digit 案件特定キー in groups of four, for reading and typing."""
    return " ".join(notice_number[i : i + 4] for i in range(0, len(notice_number), 4))


def wrap(text: str, width: float, measure: Callable[[str], float], limit: int) -> list[str]:
    """``text`` cut into at most ``limit`` lines no wider than ``width`` (CJK text breaks
    between any two characters); the last line is shortened with … when it must be.
    ``measure(str) -> float`` gives a width."""
    lines: list[str] = []
    current = ""
    for char in text:
        if measure(current + char) > width and current:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    if len(lines) > limit:
        last = lines[limit - 1]
        while last and measure(last + "…") > width:
            last = last[:-1]
        lines = [*lines[: limit - 1], last + "…"]
    return lines
