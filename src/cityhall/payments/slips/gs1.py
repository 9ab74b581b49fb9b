"""The convenience-store barcode (GS1-128, AI 91) drawn as vector bars.

python-barcode's ``Gs1_128`` is used only for its module pattern (Start C, FNC1, the
22 digit pairs, the mod-103 check character, Stop: 288 modules); the bars are drawn
here as filled rectangles, so the symbol prints sharp at any resolution.

Size (payment-codes.md §3): the whole symbol with its 2.54 mm quiet zones at most
60 mm wide, at least 10 mm high. The module is 2/300 inch (0.1693 mm, 0.48 pt): exactly
2 dots at 300 dpi and 4 at 600 dpi, the spec's 0.169 mm; 288 modules are 48.77 mm, with
the quiet zones 53.85 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

from barcode.codex import Gs1_128

MM = 72 / 25.4  # points per millimetre
MODULE_PT = 72 * 2 / 300  # 0.48 pt = 0.1693 mm
QUIET_PT = 2.54 * MM  # 2.54 mm each side
BAR_HEIGHT_PT = 11.0 * MM  # bars: 11 mm (spec: at least 10 mm)
MODULES = 288
LENGTH = 44
MAX_WIDTH_PT = 60 * MM
MIN_HEIGHT_PT = 10 * MM

# Code 128 start C (105) with FNC1 (102) right after it, and the stop pattern.
_START_C_FNC1 = "11010011100" + "11110101110"
_STOP = "1100011101011"


class Gs1Error(ValueError):
    """The text cannot be a 料金代理収納 barcode (44 digits starting 91)."""


@dataclass(frozen=True)
class Symbol:
    """Where a drawn barcode lies on the page (points, origin bottom left)."""

    x: float  # left edge of the quiet zone
    y: float  # bottom of the bars
    width: float  # with both quiet zones
    height: float  # of the bars


def modules(code: str) -> str:
    """The 288-module pattern (``1`` dark, ``0`` light) of the 44-digit code."""
    if len(code) != LENGTH or not code.isascii() or not code.isdigit() or code[:2] != "91":
        raise Gs1Error("a convenience-store barcode is 44 digits starting with 91")
    return _modules(code)


def _modules(code: str) -> str:
    pattern: str = Gs1_128(code).build()[0]
    if len(pattern) != MODULES or not pattern.startswith(_START_C_FNC1):
        raise Gs1Error("unexpected GS1-128 pattern (not Start C + FNC1, 288 modules)")
    if not pattern.endswith(_STOP):
        raise Gs1Error("unexpected GS1-128 stop pattern")
    return pattern


def runs(pattern: str) -> list[tuple[int, int]]:
    """The dark bars as (first module, width in modules)."""
    out: list[tuple[int, int]] = []
    start = -1
    for i, bit in enumerate(pattern):
        if bit == "1":
            if start < 0:
                start = i
        elif start >= 0:
            out.append((start, i - start))
            start = -1
    if start >= 0:
        out.append((start, len(pattern) - start))
    return out


def symbol_width(module: float = MODULE_PT) -> float:
    """Width of the whole symbol (bars and both quiet zones), points."""
    return MODULES * module + 2 * QUIET_PT


def pdf_ops(
    code: str,
    x: float,
    y: float,
    *,
    module: float = MODULE_PT,
    height: float = BAR_HEIGHT_PT,
) -> str:
    """PDF content operators that fill the bars; ``x`` is the left edge of the quiet
    zone, ``y`` the bottom of the bars (one path, filled once)."""
    left = x + QUIET_PT
    parts = [
        f"{left + start * module:.3f} {y:.3f} {width * module:.3f} {height:.3f} re"
        for start, width in runs(modules(code))
    ]
    parts.append("f")
    return "\n".join(parts)


def human_readable(code: str) -> str:
    """The digits under the bars, grouped by field as Japanese slips print them:
    ``(91)912345-242160000000000012345-0-261031-0-012345-2``."""
    return (
        f"({code[0:2]}){code[2:8]}-{code[8:29]}-{code[29]}-{code[30:36]}-"
        f"{code[36]}-{code[37:43]}-{code[43]}"
    )
