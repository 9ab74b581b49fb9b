"""The eL-QR (地方税統一QRコード) as vectors: PDF operators for the slip, SVG for the screen.

The symbol is always QR model 2, version 6, error-correction level M, numeric mode:
255 digits is exactly that symbol's capacity (payment-codes.md §1), and segno is
told so explicitly (no automatic version, no error-level boost), then checked.

Dark modules are merged into horizontal runs, one rectangle per run, all in one
path that is filled once; the quiet zone is 4 modules on each side.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import segno

LENGTH = 255
VERSION = 6
SIZE = 41  # modules per side of a version 6 symbol
QUIET = 4  # quiet-zone modules on each side
DEFAULT_LABEL = "eL-QR"


class QrError(ValueError):
    """The payload cannot be an eL-QR symbol (255 digits, version 6-M)."""


_DARK = re.compile(r"1+")
_FULL = (1 << SIZE) - 1
_STRIDE = SIZE + 1  # a line and one separator bit
_PADDED = SIZE + 8  # a line with four light modules on each side (the quiet zone)
_BITS = bytes.maketrans(b"\x00\x01", b"01")
_LINES_MASK = int("0".join(["1" * SIZE] * SIZE), 2)
_PADDED_MASK = int("0".join(["1" * _PADDED] * SIZE), 2)
_deltas: list[tuple[int, ...]] = []


def _encode(payload: str, mask: int) -> segno.QRCode:
    code = segno.make_qr(
        payload, version=VERSION, error="m", mode="numeric", boost_error=False, mask=mask
    )
    if code.designator != "6-M" or code.mode != "numeric" or code.mask != mask:
        raise QrError(f"expected a 6-M numeric symbol, got {code.designator} {code.mode}")
    return code


def _row_ints(code: segno.QRCode) -> tuple[int, ...]:
    rows: Sequence[bytearray] = code.matrix
    if len(rows) != SIZE:
        raise QrError("unexpected symbol size")
    bits = b"".join(rows).translate(_BITS)
    return tuple(int(bits[i : i + SIZE], 2) for i in range(0, SIZE * SIZE, SIZE))


def _mask_deltas() -> list[tuple[int, ...]]:
    """For each mask k, the modules that differ between a symbol masked with k and the
    same symbol masked with 0: the data region where the two mask patterns differ and
    the format information. Both depend on the mask only, never on the data, so they
    are computed once per process from a symbol of zeros."""
    if not _deltas:
        base = _row_ints(_encode("0" * LENGTH, 0))
        for k in range(8):
            other = _row_ints(_encode("0" * LENGTH, k))
            _deltas.append(tuple(a ^ b for a, b in zip(base, other, strict=True)))
    return _deltas


def _n1(big: int, mask: int) -> int:
    """Runs of five or more of one colour in the lines packed in ``big``."""
    score = 0
    for ones in (big, ~big & mask):
        five = ones & ones >> 1 & ones >> 2 & ones >> 3 & ones >> 4  # windows of five
        # a run of length L has L - 4 windows and scores 3 + (L - 5) = (L - 4) + 2
        score += five.bit_count() + 2 * (five & ~(five << 1)).bit_count()
    return score


def _n3(big: int) -> int:
    """1:1:3:1:1 patterns with four light modules before or after (lines padded with
    the light quiet zone, packed with a separator bit that is neither dark nor light)."""
    light = ~big & _PADDED_MASK
    found = big & light >> 1 & big >> 2 & big >> 3 & big >> 4 & light >> 5 & big >> 6
    four = light & light >> 1 & light >> 2 & light >> 3
    return (found & (four >> 7 | four << 4)).bit_count()


def penalty(rows: Sequence[int]) -> int:
    """ISO/IEC 18004 §7.8.3.1 penalty of a whole symbol (format information included;
    the quiet zone counts as light for N3): N1 runs of five or more (3 + i), N2 2×2
    blocks of one colour (3 each), N3 finder-like 1:1:3:1:1 patterns beside four light
    modules (40), N4 the dark proportion's distance from 50 % (10 per 5 %). Computed on
    whole lines at once: rows and columns packed into big integers."""
    lines = [format(r, f"0{SIZE}b") for r in rows]
    columns = ["".join(col) for col in zip(*lines, strict=True)]
    by_rows = int("0".join(lines), 2)
    by_columns = int("0".join(columns), 2)
    score = _n1(by_rows, _LINES_MASK) + _n1(by_columns, _LINES_MASK)
    for packed in (lines, columns):
        score += 40 * _n3(int("0".join("0000" + line + "0000" for line in packed), 2))
    dark = by_rows & by_rows >> _STRIDE
    light = ~by_rows & _LINES_MASK
    light &= light >> _STRIDE
    score += 3 * ((dark & dark >> 1).bit_count() + (light & light >> 1).bit_count())
    total = SIZE * SIZE
    dark_modules = by_rows.bit_count()
    score += 10 * (abs(dark_modules * 100 - 50 * total) // (5 * total))
    return score


def _penalty_reference(rows: Sequence[int]) -> int:
    """The same penalty module by module (slow; the tests compare the two)."""
    grid = [[(r >> (SIZE - 1 - j)) & 1 for j in range(SIZE)] for r in rows]
    lines = [list(row) for row in grid] + [[grid[i][j] for i in range(SIZE)] for j in range(SIZE)]
    score = 0
    for line in lines:
        run = 1
        for a, b in itertools.pairwise(line):
            if a == b:
                run += 1
            else:
                score += 3 + run - 5 if run >= 5 else 0
                run = 1
        score += 3 + run - 5 if run >= 5 else 0
        padded = [0] * 4 + line + [0] * 4
        for j in range(len(padded) - 6):
            if padded[j : j + 7] == [1, 0, 1, 1, 1, 0, 1] and (
                (j >= 4 and padded[j - 4 : j] == [0] * 4) or padded[j + 7 : j + 11] == [0] * 4
            ):
                score += 40
    for i in range(SIZE - 1):
        for j in range(SIZE - 1):
            if grid[i][j] == grid[i][j + 1] == grid[i + 1][j] == grid[i + 1][j + 1]:
                score += 3
    dark = sum(map(sum, grid))
    score += 10 * (abs(dark * 100 - 50 * SIZE * SIZE) // (5 * SIZE * SIZE))
    return score


def symbol(payload: str) -> tuple[int, tuple[int, ...]]:
    """(mask, rows): the symbol segno encodes for ``payload`` — version 6, level M,
    numeric, no error-level boost — with the mask of lowest penalty. Each row is an
    int, the leftmost module in the highest of its 41 bits (1 = dark).

    segno's own mask selection is pure Python and takes ~11 ms per symbol (over
    half of a slip's budget); the same choice is made here from one segno encoding
    and the eight mask deltas, in ~1 ms."""
    if len(payload) != LENGTH or not payload.isascii() or not payload.isdigit():
        raise QrError("an eL-QR payload is 255 digits")
    deltas = _mask_deltas()
    base = _row_ints(_encode(payload, 0))
    best: tuple[int, tuple[int, ...]] | None = None
    best_score = -1
    for k, delta in enumerate(deltas):
        rows = tuple(a ^ b for a, b in zip(base, delta, strict=True))
        score = penalty(rows)
        if best is None or score < best_score:
            best, best_score = (k, rows), score
    assert best is not None
    return best


def matrix(payload: str) -> list[list[int]]:
    """The 41 × 41 modules (1 = dark), without the quiet zone."""
    _, rows = symbol(payload)
    return [[int(ch) for ch in format(r, f"0{SIZE}b")] for r in rows]


def runs(rows: Sequence[int]) -> list[tuple[int, int, int]]:
    """Dark modules merged into horizontal runs: (row, first column, length)."""
    text = "0".join(format(r, f"0{SIZE}b") for r in rows)
    out: list[tuple[int, int, int]] = []
    for m in _DARK.finditer(text):
        r, col = divmod(m.start(), _STRIDE)
        out.append((r, col, m.end() - m.start()))
    return out


def side(module: float) -> float:
    """Side of the whole symbol with its quiet zone, in the unit of ``module``."""
    return (SIZE + 2 * QUIET) * module


def pdf_ops(payload: str, x: float, y: float, module: float) -> str:
    """PDF content operators filling the dark modules. ``(x, y)`` is the bottom-left
    corner of the quiet zone, in points; the symbol is ``side(module)`` square."""
    xs, ys, ws, h = _grid(x, y, module)
    parts = [
        f"{xs[col]} {ys[r]} {ws[length]} {h} re" for r, col, length in runs(symbol(payload)[1])
    ]
    parts.append("f")
    return "\n".join(parts)


@lru_cache(maxsize=8)
def _grid(x: float, y: float, module: float) -> tuple[list[str], list[str], list[str], str]:
    """The numbers a placement of the symbol needs, formatted once (geometry, not data):
    the left edge of each column, the bottom edge of each row, each run width."""
    top = y + (SIZE + QUIET) * module
    left = x + QUIET * module
    xs = [f"{left + col * module:.3f}" for col in range(SIZE)]
    ys = [f"{top - (r + 1) * module:.3f}" for r in range(SIZE)]
    ws = [f"{n * module:.3f}" for n in range(SIZE + 1)]
    return xs, ys, ws, f"{module:.3f}"


def svg(payload: str, *, scale: int = 4, label: str = "") -> str:
    """An inline SVG of the symbol (quiet zone included) for the resident's screen:
    ``scale`` pixels per module, ``role="img"`` with ``label`` as its accessible name
    (and ``<title>``); one path, no external files, no script."""
    if scale < 1:
        raise QrError("scale must be at least 1")
    name = label or DEFAULT_LABEL
    total = SIZE + 2 * QUIET
    d = "".join(
        f"M{col + QUIET} {r + QUIET}h{length}v1h-{length}z"
        for r, col, length in runs(symbol(payload)[1])
    )
    px = total * scale
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {total}" '
        f'width="{px}" height="{px}" role="img" aria-label={quoteattr(name)} '
        f'shape-rendering="crispEdges" class="elqr">'
        f"<title>{_text(name)}</title>"
        f'<rect width="{total}" height="{total}" fill="#fff"/>'
        f'<path fill="#000" d="{d}"/>'
        "</svg>"
    )


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
