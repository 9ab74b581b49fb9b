"""The copy of an application (申請内容の控え) as a PDF, in Japanese.

Drawn with ReportLab and its built-in Japanese CID fonts (HeiseiKakuGo-W5 for
headings, HeiseiMin-W3 for text), so no font files are needed and any PDF reader
shows the text, which also stays extractable (a test reads it back with pypdf).
Long answers wrap (CJK line breaking), tables break across pages, and every page
carries its number.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cityhall.procedures.formspec import wareki
from cityhall.procedures.models import Application

GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
# The words the answers need, in Japanese (the copy is always in Japanese).
WORDS_JA = {"yes": "はい", "no": "いいえ", "signed": "署名あり", "files": "ファイル{n}件"}
STATUS_JA = {
    "draft": "作成中",
    "submitted": "受付待ち",
    "received": "受付済み",
    "in_review": "審査中",
    "needs_info": "追加の情報が必要",
    "approved": "完了",
    "rejected": "受理されませんでした",
    "withdrawn": "取り下げ",
}

# Characters of an answer per table row (a row is never split across pages).
CHUNK = 600

_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
        pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
        _registered = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=MINCHO, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontName=GOTHIC, fontSize=18, leading=24),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=GOTHIC,
            fontSize=12.5,
            leading=18,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "label": ParagraphStyle("label", parent=base, fontName=GOTHIC, fontSize=9.5, leading=14),
        "text": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; line breaks kept)."""
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def when_ja(moment: datetime | None) -> str:
    """``令和8年11月26日 10:15（2026年11月26日）``, in Japan time."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    d = local.date()
    try:
        japanese = wareki.format_wareki(d)
    except ValueError:
        japanese = ""
    western = f"{d.year}年{d.month}月{d.day}日"
    time = local.strftime("%H:%M")
    return f"{japanese} {time}（{western}）" if japanese else f"{western} {time}"


def date_ja(day: Any) -> str:
    if day is None:
        return ""
    try:
        return f"{wareki.format_wareki(day)}（{day.year}年{day.month}月{day.day}日）"
    except ValueError:
        return f"{day.year}年{day.month}月{day.day}日"


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """A long answer in pieces of at most ``size`` characters, cut at line ends where it
    can be: a table row cannot break across pages, so each piece is a row of its own."""
    out: list[str] = []
    current = ""
    for line in str(text).split("\n"):
        while len(line) > size:
            if current:
                out.append(current)
                current = ""
            out.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            out.append(current)
            current = line
        else:
            current = candidate
    if current or not out:
        out.append(current)
    return out


def _table(rows: list[list[Any]], widths: list[float], heading_rows: list[int]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=0, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#767676")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    for index in heading_rows:
        style.append(("SPAN", (0, index), (-1, index)))
        style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#e8f0fe")))
    table.setStyle(TableStyle(style))
    return table


def render(application: Application) -> bytes:
    """The PDF copy of a submitted application, as bytes."""
    from cityhall.procedures.services import applications

    _fonts()
    s = _styles()
    procedure = application.procedure
    department = procedure.department
    title = procedure.text("title", "ja")
    width = A4[0] - 36 * mm

    story: list[Any] = [
        _p("申請内容の控え", s["title"]),
        Spacer(1, 4 * mm),
        _p(title, s["h2"]),
        Spacer(1, 2 * mm),
    ]
    applicant = application.applicant_name or (
        application.applicant.display_name or application.applicant.email
    )
    facts = [
        ["受付番号", application.reference or "（未提出）"],
        ["受付日時", when_ja(application.submitted_at)],
        ["申請者", applicant],
        ["申請方法", "窓口" if application.via == Application.Via.COUNTER else "オンライン"],
        ["状況", STATUS_JA.get(application.status, application.status)],
    ]
    if application.due_date:
        facts.append(["処理予定日", date_ja(application.due_date)])
    if application.fee_yen:
        facts.append(["手数料", f"{application.fee_yen:,}円"])
    story.append(
        _table(
            [[_p(k, s["label"]), _p(v, s["text"])] for k, v in facts],
            [32 * mm, width - 32 * mm],
            [],
        )
    )

    story += [Spacer(1, 6 * mm), _p("申請内容", s["h2"])]
    rows = applications.summary(application, "ja", WORDS_JA)
    table_rows: list[list[Any]] = []
    headings: list[int] = []
    current_step = None
    for row in rows:
        if row.step_title != current_step:
            current_step = row.step_title
            headings.append(len(table_rows))
            table_rows.append([_p(row.step_title, s["label"]), ""])
        if not row.text:  # a group item's heading
            table_rows.append([_p(row.label, s["label"]), ""])
            continue
        for i, chunk in enumerate(chunks(row.text)):
            label = _p(row.label, s["label"]) if i == 0 else ""
            table_rows.append([label, _p(chunk, s["text"])])
    if table_rows:
        story.append(_table(table_rows, [55 * mm, width - 55 * mm], headings))
    else:
        story.append(_p("（回答はありません）", s["text"]))

    story += [Spacer(1, 6 * mm), _p("お問い合わせ先", s["h2"])]
    contact = [department.name]
    if department.location:
        contact.append(department.location)
    if department.phone:
        contact.append(f"電話 {department.phone}")
    if department.email:
        contact.append(f"メール {department.email}")
    story.append(_p("\n".join(contact), s["text"]))
    story += [
        Spacer(1, 4 * mm),
        _p(
            "この控えは、申請内容の確認のためのものです。"
            "受付番号は、お問い合わせのときにお伝えください。",
            s["small"],
        ),
    ]

    reference = application.reference or ""

    def page_furniture(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(MINCHO, 8.5)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{doc.page} ページ")
        if reference:
            canvas.drawString(18 * mm, 10 * mm, f"受付番号 {reference}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"申請内容の控え {reference}".strip(),
        author=department.name,
        subject=title,
        lang="ja",
    )
    doc.build(story, onFirstPage=page_furniture, onLaterPages=page_furniture)
    return buffer.getvalue()
