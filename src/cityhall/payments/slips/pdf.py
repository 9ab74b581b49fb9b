"""納付書 PDFs: one A4 page per slip, the eL-QR and the convenience-store barcode as vectors.

Fast by construction (goal: ≥ 200 slips/s on one core):

- ReportLab's built-in Japanese CID fonts (nothing to embed) are registered once per
  process;
- everything that is the same on every slip (frames, labels, cut lines, captions, how
  to pay) is drawn once per document into a Form XObject and placed on each page
  with ``doForm`` (one operator per page, one copy in the file);
- a page's own text is one text object; each code is one path of rectangles written
  as PDF operators (dark QR modules merged into horizontal runs; one rectangle per
  bar), placed on the 300-dpi dot grid;
- nothing that differs between notices is cached.

Content streams are compressed (``pageCompression=1``): it costs a little CPU and
divides the file by about five (see docs/payments/slips.md for the figures).
``invariant=1`` makes the bytes depend on the slips only (no timestamps, no random
document id), so the same slips give the same file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from cityhall.payments.slips import gs1, qr
from cityhall.payments.slips import layout as L
from cityhall.payments.slips.data import SlipData

STATIC_FORM = "slipStatic"
PAGE_COMPRESSION = 1

_fonts_ready = False


def setup_fonts() -> None:
    """Register the two CID fonts (once per process)."""
    global _fonts_ready
    if not _fonts_ready:
        pdfmetrics.registerFont(UnicodeCIDFont(L.GOTHIC))
        pdfmetrics.registerFont(UnicodeCIDFont(L.MINCHO))
        _fonts_ready = True


def width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def new_canvas(out: BinaryIO, *, compression: int = PAGE_COMPRESSION) -> Canvas:
    canvas = Canvas(
        out,
        pagesize=(L.PAGE_W, L.PAGE_H),
        pageCompression=compression,
        invariant=1,
        lang="ja",
    )
    canvas.setTitle("納付書")
    canvas.setSubject("納付書（領収証書・納付書・領収済通知書）")
    canvas.setCreator("cityhall")
    return canvas


@contextmanager
def binary_streams() -> Iterator[None]:
    """Compressed streams without the ASCII85 layer ReportLab adds by default: it makes
    them a quarter larger, and without ReportLab's optional C accelerator its encoder
    (pure Python) costs about as much as drawing the page. ReportLab reads this
    setting when it writes a stream, so it is changed for the time of one render."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def render(slips: Iterable[SlipData], out: BinaryIO, *, compression: int = PAGE_COMPRESSION) -> int:
    """Write one PDF with one A4 page per slip to ``out``; return the number of pages.
    No slips: nothing is written and 0 is returned. ``compression=0`` writes the
    content streams uncompressed (faster, about five times larger)."""
    setup_fonts()
    with binary_streams():
        return _render(slips, out, compression)


def _render(slips: Iterable[SlipData], out: BinaryIO, compression: int) -> int:
    canvas: Canvas | None = None
    pages = 0
    for slip in slips:
        if canvas is None:
            canvas = new_canvas(out, compression=compression)
            canvas.beginForm(STATIC_FORM)
            draw_static(canvas)
            canvas.endForm()
        canvas.doForm(STATIC_FORM)
        draw_text(canvas, slip)
        draw_codes(canvas, slip)
        canvas.showPage()
        pages += 1
    if canvas is not None:
        canvas.save()
    return pages


def render_bytes(slips: Iterable[SlipData]) -> bytes:
    """The PDF as bytes (b"" for no slips)."""
    buffer = io.BytesIO()
    render(slips, buffer)
    return buffer.getvalue()


# --- what differs per slip ---------------------------------------------------------------


class _Text:
    """A page's text as one text object of PDF operators: strings written as hex
    (UTF-16BE for the CID fonts, WinAnsi for Helvetica), fonts switched only when
    they change, positions with two decimals (1/7200 inch)."""

    def __init__(self, canvas: Canvas) -> None:
        self.doc = canvas._doc
        self.ops: list[str] = ["BT"]
        self.font = ("", 0.0)

    def put(
        self,
        font: str,
        size: float,
        left_mm: float,
        top_mm: float,
        text: str,
        *,
        align: str = "left",
        max_mm: float = 0.0,
    ) -> None:
        if not text:
            return
        if max_mm:  # shrink to fit, never below 60 %
            limit = max_mm * L.MM
            w = width(text, font, size)
            if w > limit:
                size = round(max(size * 0.6, size * limit / w), 2)
        px, py = L.x(left_mm), L.y(top_mm)
        if align != "left":
            w = width(text, font, size)
            px -= w if align == "right" else w / 2
        if self.font != (font, size):
            self.ops.append(f"/{self.doc.getInternalFontName(font)[1:]} {size:g} Tf")
            self.font = (font, size)
        encoded = text.encode("cp1252" if font in _LATIN else "utf-16-be").hex()
        self.ops.append(f"1 0 0 1 {px:.2f} {py:.2f} Tm <{encoded}> Tj")

    def draw(self, canvas: Canvas) -> None:
        self.ops.append("ET")
        canvas.addLiteral("\n".join(self.ops))


_LATIN = frozenset({L.DIGITS, L.DIGITS_BOLD})


def postal(code: str) -> str:
    digits = "".join(ch for ch in code if ch.isdigit())
    return f"〒{digits[:3]}-{digits[3:]}" if len(digits) == 7 else f"〒{code}" if code else ""


def draw_text(canvas: Canvas, slip: SlipData) -> None:
    """Every word and number of this slip (one text object)."""
    t = _Text(canvas)
    fiscal = L.fiscal_ja(slip.fiscal_year)
    due = L.date_ja(slip.due_date)
    amount = L.yen(slip.amount_yen)

    # The letter: the address block sits in the envelope's window.
    t.put(L.GOTHIC, 10.5, L.ADDRESS_LEFT, L.ADDRESS_POSTAL_TOP, postal(slip.payer_postal_code))
    lines = L.wrap(
        slip.payer_address,
        L.ADDRESS_WIDTH_MM * L.MM,
        lambda s: width(s, L.MINCHO, 10.5),
        L.ADDRESS_MAX_LINES,
    )
    for i, line in enumerate(lines):
        t.put(
            L.MINCHO, 10.5, L.ADDRESS_LEFT, L.ADDRESS_FIRST_LINE_TOP + i * L.ADDRESS_LINE_MM, line
        )
    name = f"{slip.payer_name} 様"
    t.put(L.GOTHIC, L.NAME_SIZE, L.ADDRESS_LEFT, L.NAME_TOP, name, max_mm=L.ADDRESS_WIDTH_MM)
    t.put(L.MINCHO, 8, L.ADDRESS_LEFT, L.REFERENCE_TOP, f"通知書番号 {slip.charge_reference}")
    t.put(
        L.MINCHO,
        9,
        L.ISSUER_RIGHT,
        L.ISSUED_ON_TOP,
        f"発行日 {L.date_ja(slip.issued_on)}",
        align="right",
    )
    t.put(L.GOTHIC, 11, L.ISSUER_RIGHT, L.ISSUER_TOP, slip.issuer, align="right", max_mm=80)
    t.put(
        L.MINCHO,
        8.5,
        L.ISSUER_RIGHT,
        L.CONTACT_TOP,
        f"問い合わせ先 {slip.contact}",
        align="right",
        max_mm=80,
    )
    title = f"{fiscal} {slip.kind_name} 第{slip.period}期 納付書"
    t.put(L.GOTHIC, 14, L.TITLE_LEFT, L.TITLE_TOP, title, max_mm=150)
    if slip.reissue > 0:
        left, top, w, h = L.REISSUE_BOX
        t.put(
            L.GOTHIC, 12, left + w / 2, top + h * 0.72, f"再発行（{slip.reissue}）", align="center"
        )

    # The three parts: the same facts in each.
    values = (
        slip.kind_name,
        f"{fiscal} 第{slip.period}期",
        slip.charge_reference,
        due,
        amount,
        f"{slip.payer_name} 様",
        slip.issuer,
    )
    value_left = L.TABLE_LEFT + L.TABLE_LABEL_W + 2
    value_max = L.TABLE_RIGHT - value_left - 1
    for part in L.PARTS:
        row_mm = _row_mm(part)
        for i, value in enumerate(values):
            baseline = part.top + L.TABLE_TOP + (i + 0.72) * row_mm
            if i == 4:
                t.put(L.DIGITS_BOLD, 12, value_left, baseline + 0.3, value)
            else:
                t.put(L.MINCHO, 9.5, value_left, baseline, value, max_mm=value_max)
        if part.title == "領収証書" and slip.reissue > 0:
            t.put(L.GOTHIC, 9, 118, part.top + 6.5, f"再発行（{slip.reissue}）")

    slip_part = L.PARTS[1]
    top = slip_part.top
    # eL番号 beside the QR: the four items, each grouped for typing.
    el_values = (
        slip.institution_code,
        L.notice_number_grouped(slip.notice_number),
        slip.check_number,
        slip.tax_code,
    )
    for i, value in enumerate(el_values):
        t.put(L.DIGITS_BOLD, 9, L.EL_LEFT, top + L.EL_TOP + 7.0 + i * 6.5, value)
    if slip.cvs_barcode:
        centre = L.BARCODE_LEFT + gs1.symbol_width() / L.MM / 2
        bottom = L.BARCODE_TOP + gs1.BAR_HEIGHT_PT / L.MM
        t.put(
            L.DIGITS,
            6.5,
            centre,
            top + bottom + L.BARCODE_TEXT_GAP,
            gs1.human_readable(slip.cvs_barcode),
            align="center",
        )
        t.put(
            L.GOTHIC,
            8,
            L.QR_LEFT,
            top + L.PAY_BY_TOP,
            f"コンビニ・アプリ支払期限 {L.date_ja(slip.pay_by)}",
        )
        t.put(
            L.MINCHO,
            6.5,
            L.QR_LEFT,
            top + L.PAY_BY_TOP + 3.8,
            "支払期限を過ぎると、コンビニエンスストア・バーコード決済アプリではお支払いできません。",
            max_mm=82,
        )
    else:
        t.put(L.GOTHIC, 8.5, L.QR_LEFT, top + L.NO_CVS_TOP, "金額が取扱限度額を超えるため、")
        t.put(
            L.GOTHIC,
            8.5,
            L.QR_LEFT,
            top + L.NO_CVS_TOP + 4.5,
            "コンビニエンスストアではお支払いできません。",
        )
        t.put(
            L.MINCHO,
            7,
            L.QR_LEFT,
            top + L.NO_CVS_TOP + 9,
            "金融機関の窓口、または eL-QR でお支払いください。",
        )

    back = L.PARTS[2]
    if slip.account_code:
        t.put(L.MINCHO, 8, 118, back.top + 16, f"会計・科目 {slip.account_code}")
    t.put(L.MINCHO, 7, 118, back.top + 22, "案件特定キー")
    t.put(L.DIGITS, 8.5, 118, back.top + 26, L.notice_number_grouped(slip.notice_number))
    t.draw(canvas)


def draw_codes(canvas: Canvas, slip: SlipData) -> None:
    """The eL-QR and, when the slip has one, the barcode, as filled paths."""
    qx, qy, _ = qr_box()
    ops = [qr.pdf_ops(slip.elqr_payload, qx, qy, L.QR_MODULE)]
    bar = barcode_box(slip)
    if bar is not None:
        ops.append(gs1.pdf_ops(slip.cvs_barcode, bar.x, bar.y, height=bar.height))
    canvas.addLiteral("0 g\n" + "\n".join(ops))
    if slip.reissue > 0:
        left, rtop, w, h = L.REISSUE_BOX
        canvas.addLiteral(
            f"1.2 w {L.x(left):.2f} {L.y(rtop + h):.2f} {w * L.MM:.2f} {h * L.MM:.2f} re S"
        )


def qr_box() -> tuple[float, float, float]:
    """(left, bottom, side) of the eL-QR with its quiet zone on the page, points."""
    top = L.PARTS[1].top
    qx = L.snap_x(L.x(L.QR_LEFT))
    side = qr.side(L.QR_MODULE)
    return qx, L.snap_y(L.y(top + L.QR_TOP)) - side, side


def barcode_box(slip: SlipData) -> gs1.Symbol | None:
    """Where the barcode is drawn (quiet zones included), or None."""
    if not slip.cvs_barcode:
        return None
    top = L.PARTS[1].top
    bx = L.snap_x(L.x(L.BARCODE_LEFT))
    btop = L.snap_y(L.y(top + L.BARCODE_TOP))
    return gs1.Symbol(bx, btop - gs1.BAR_HEIGHT_PT, gs1.symbol_width(), gs1.BAR_HEIGHT_PT)


# --- the same on every slip --------------------------------------------------------------


def _row_mm(part: L.Part) -> float:
    return min(L.ROW_MM, (part.height - L.TABLE_TOP - 1.5) / len(L.ROWS))


def draw_static(canvas: Canvas) -> None:
    """Frames, labels, cut lines, captions and how to pay (drawn once per document)."""
    c = canvas
    c.saveState()
    c.setLineWidth(0.5)
    c.setStrokeGray(0)
    c.setFillGray(0)

    c.setFont(L.GOTHIC, 9.5)
    c.drawString(L.x(L.TITLE_LEFT), L.y(L.HOWTO_TOP + 1.5), "お支払いの方法")
    c.setFont(L.MINCHO, 8.3)
    howto = (
        "・納期限までに、この納付書で金融機関（銀行・信用金庫・農協・郵便局など）の窓口でお支払いください。",
        "・eL-QR を読み取ると、スマートフォン決済アプリや地方税お支払サイトでもお支払いいただけます。",  # noqa: E501
        "・バーコードのある納付書は、支払期限までコンビニエンスストアやバーコード決済アプリでもお支払いいただけます。",
        "・3つの部分を切り離さずにお持ちください。領収証書は大切に保管してください。",
    )
    for i, line in enumerate(howto):
        c.drawString(L.x(L.TITLE_LEFT), L.y(L.HOWTO_TOP + 5.5 + i * 3.9), line)

    # Cut lines with their words on a white ground.
    for cut in L.CUT_LINES:
        c.saveState()
        c.setDash(3, 2)
        c.setLineWidth(0.4)
        c.line(L.x(0), L.y(cut), L.x(L.PAGE_W_MM), L.y(cut))
        c.restoreState()
        c.setFillGray(1)
        c.rect(L.x(96), L.y(cut) - 4, L.x(18), 8, stroke=0, fill=1)
        c.setFillGray(0)
        c.setFont(L.MINCHO, 7)
        c.drawCentredString(L.x(105), L.y(cut) - 2.4, "切り取り線")

    for part in L.PARTS:
        _static_part(c, part)

    # 納付書 part: the codes' captions and the eL番号 labels.
    top = L.PARTS[1].top
    c.setFont(L.GOTHIC, 6)
    c.drawString(L.x(L.QR_LEFT), L.y(top + L.QR_CAPTION_TOP), L.QR_CAPTION)
    c.setFont(L.GOTHIC, 8.5)
    c.drawString(L.x(L.EL_LEFT), L.y(top + L.EL_TOP), "eL番号")
    c.setFont(L.MINCHO, 6.5)
    for i, item in enumerate(L.EL_ITEMS):
        c.drawString(L.x(L.EL_LEFT), L.y(top + L.EL_TOP + 3.6 + i * 6.5), item)
    c.setFont(L.MINCHO, 7)
    notes = (
        "この納付書は、金融機関・コンビニエンスストアで",
        "保管してください。",
    )
    for i, line in enumerate(notes):
        c.drawString(L.x(L.TABLE_LEFT), L.y(top + 62 + i * 3.5), line)

    front = L.PARTS[0]
    c.setFont(L.MINCHO, 7.5)
    for i, line in enumerate(
        (
            "この領収証書は、大切に保管してください。",
            "金融機関・コンビニエンスストアの領収日付印の",
            "ないもの、または訂正したものは無効です。",
        )
    ):
        c.drawString(L.x(118), L.y(front.top + 18 + i * 4), line)
    c.restoreState()


def _static_part(c: Canvas, part: L.Part) -> None:
    top = part.top
    c.setFont(L.GOTHIC, 12)
    c.drawString(L.x(L.TABLE_LEFT), L.y(top + 6.5), part.title)
    c.setFont(L.MINCHO, 7.5)
    c.drawString(
        L.x(L.TABLE_LEFT) + width(part.title, L.GOTHIC, 12) + 3, L.y(top + 6.5), part.keeper
    )

    row = _row_mm(part)
    table_top = top + L.TABLE_TOP
    rows = len(L.ROWS)
    c.setLineWidth(0.6)
    c.rect(
        L.x(L.TABLE_LEFT),
        L.y(table_top + rows * row),
        L.x(L.TABLE_RIGHT - L.TABLE_LEFT),
        rows * row * L.MM,
        stroke=1,
        fill=0,
    )
    c.setLineWidth(0.3)
    for i in range(1, rows):
        c.line(
            L.x(L.TABLE_LEFT),
            L.y(table_top + i * row),
            L.x(L.TABLE_RIGHT),
            L.y(table_top + i * row),
        )
    split = L.TABLE_LEFT + L.TABLE_LABEL_W
    c.line(L.x(split), L.y(table_top), L.x(split), L.y(table_top + rows * row))
    c.setFont(L.GOTHIC, 8)
    for i, label in enumerate(L.ROWS):
        c.drawString(L.x(L.TABLE_LEFT + 1.5), L.y(table_top + (i + 0.7) * row), label)

    # 領収日付印 (the receiving bank's date stamp).
    if part.title == "納付書":
        left, stop, w, h = 84.0, 62.0, 22.0, 20.0
    else:
        left, stop, w, h = L.STAMP
    c.saveState()
    c.setDash(1.5, 1.5)
    c.setLineWidth(0.4)
    c.roundRect(L.x(left), L.y(top + stop + h), L.x(w), h * L.MM, 4, stroke=1, fill=0)
    c.restoreState()
    c.setFont(L.MINCHO, 6.5)
    c.drawCentredString(L.x(left + w / 2), L.y(top + stop + 3), "領収日付印")
