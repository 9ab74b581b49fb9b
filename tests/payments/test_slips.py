"""納付書 PDFs read back by a real decoder: every page rasterised at 300 dpi with pdfium
and read with zxing-cpp (no database: the renderer is framework-free)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pypdf
import pypdfium2 as pdfium
import pytest
import segno
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from cityhall.payments.codes import cvs, elqr
from cityhall.payments.slips import gs1, layout, pdf, qr
from cityhall.payments.slips.data import SlipData

MM = 72 / 25.4
DPI = 300
SPEC_ELQR = (
    "0002010102122796000513800018305000000000000000001234521380009990000071000000002026000"
    "0000112345602421600000000005411000000123456226202620260120261031202610318085000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000630560829"
)
SPEC_CVS = "91912345242160000000000012345026103100123452"


def make_slip(
    n: int = 1, *, amount: int = 12_345, reissue: int = 0, barcode: bool = True
) -> SlipData:
    due = dt.date(2026, 10, 31)
    notice_number = f"0000000020260000{n:04d}"
    check = f"{(n * 7919) % 1_000_000:06d}"
    payload = elqr.build(
        elqr.ElQr(amount, "999", notice_number, check, "24216", "000", 2026, 2026, 1, due, due)
    )
    code = ""
    if barcode:
        free = cvs.free_field("24216", notice_number[-12:])
        code = cvs.build(cvs.CvsBarcode("912345", free, reissue, due, amount))
    return SlipData(
        notice_number=notice_number,
        check_number=check,
        tax_code="999",
        institution_code="24216",
        kind_name="個人住民税（普通徴収）",
        fiscal_year=2026,
        period=1,
        amount_yen=amount,
        due_date=due,
        pay_by=due,
        payer_name="伊賀 花子",
        payer_postal_code="5188501",
        payer_address="三重県伊賀市上野丸之内116番地",
        charge_reference=f"R08-{n:06d}",
        elqr_payload=payload,
        cvs_barcode=code,
        reissue=reissue,
        issued_on=dt.date(2026, 6, 1),
        issuer="伊賀市長",
        contact="伊賀市 収納課 0595-22-9620",
        account_code="01-100",
    )


def pages_read(data: bytes) -> list[list[zxingcpp.Barcode]]:
    document = pdfium.PdfDocument(data)
    try:
        return [
            zxingcpp.read_barcodes(document[i].render(scale=DPI / 72).to_pil())
            for i in range(len(document))
        ]
    finally:
        document.close()


def by_format(found: list[zxingcpp.Barcode]) -> dict[str, zxingcpp.Barcode]:
    return {b.format.name: b for b in found}


def assert_elqr(code: zxingcpp.Barcode, payload: str) -> None:
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.symbology_identifier == "]Q1"
    assert code.ec_level == "M"
    extra = code.extra  # zxing-cpp 3 reports the version here
    assert isinstance(extra, dict)
    assert extra["Version"] == "6"
    assert code.text == payload
    assert len(code.text) == 255


def assert_cvs(code: zxingcpp.Barcode, digits: str) -> None:
    assert code.format == zxingcpp.BarcodeFormat.Code128
    assert code.symbology_identifier == "]C1"  # FNC1 in first position: GS1-128
    assert code.content_type == zxingcpp.ContentType.GS1
    # zxing-cpp writes GS1 element strings in HRI form, the AI in parentheses:
    # "(91)" + the 42 digits after it. Compare the whole text, then the 44 digits.
    assert code.text == f"(91){digits[2:]}"
    assert "91" + code.text.removeprefix("(91)") == digits
    assert len(digits) == 44


def test_spec_examples_are_what_the_code_layer_builds() -> None:
    slip = make_slip()
    due = dt.date(2026, 10, 31)
    spec = elqr.ElQr(
        12_345, "999", "00000000202600000001", "123456", "24216", "000", 2026, 2026, 1, due, due
    )
    assert elqr.build(spec) == SPEC_ELQR
    assert len(slip.elqr_payload) == 255


def test_every_page_reads_back_as_eLQR_6M_and_GS1_128() -> None:
    slips = [
        make_slip(1),
        make_slip(2, amount=299_999, reissue=2),
        make_slip(3, amount=1),
        make_slip(4, amount=450_000, barcode=False),
        dataclasses.replace(make_slip(5), elqr_payload=SPEC_ELQR, cvs_barcode=SPEC_CVS),
    ]
    data = pdf.render_bytes(slips)
    assert data.startswith(b"%PDF-")
    found = pages_read(data)
    assert len(found) == len(slips)
    for slip, page in zip(slips, found, strict=True):
        codes = by_format(page)
        assert_elqr(codes["QRCode"], slip.elqr_payload)
        if slip.cvs_barcode:
            assert len(page) == 2
            assert_cvs(codes["Code128"], slip.cvs_barcode)
            assert cvs.parse(slip.cvs_barcode).amount == slip.amount_yen
        else:
            assert len(page) == 1  # only the QR: no barcode over the agent's limit
        assert elqr.parse(codes["QRCode"].text).amount == slip.amount_yen


def test_render_writes_one_page_per_slip_to_a_stream() -> None:
    out = io.BytesIO()
    assert pdf.render((make_slip(n) for n in range(1, 4)), out) == 3
    assert len(pypdf.PdfReader(io.BytesIO(out.getvalue())).pages) == 3
    empty = io.BytesIO()
    assert pdf.render([], empty) == 0
    assert empty.getvalue() == b""


def test_same_slips_give_the_same_bytes() -> None:
    assert pdf.render_bytes([make_slip(1)]) == pdf.render_bytes([make_slip(1)])


def test_japanese_text_is_present_and_extractable() -> None:
    slips = [make_slip(1, reissue=1), make_slip(2, amount=450_000, barcode=False)]
    reader = pypdf.PdfReader(io.BytesIO(pdf.render_bytes(slips)))
    first = reader.pages[0].extract_text()
    for text in (
        "領収証書",
        "納付書",
        "領収済通知書",
        "納期限",
        "令和8年10月31日",
        "¥12,345",
        "伊賀 花子 様",
        "令和8年度 第1期",
        "R08-000001",
        "個人住民税（普通徴収）",
        "伊賀市長",
        "〒518-8501",
        "地方税統一QRコード（eL-QR）",
        "eL番号",
        "0000 0000 2026 0000 0001",
        "再発行（1）",
        "コンビニ・アプリ支払期限 令和8年10月31日",
        "切り取り線",
        gs1.human_readable(slips[0].cvs_barcode),
    ):
        assert text in first, text
    assert first.count("¥12,345") == 3  # one in each part
    second = reader.pages[1].extract_text()
    assert "コンビニエンスストアではお支払いできません。" in second
    assert "¥450,000" in second
    assert "再発行" not in second
    assert "支払期限 令和" not in second


def _rects(ops: str) -> list[tuple[float, float, float, float]]:
    return [
        (float(a), float(b), float(c), float(d))
        for a, b, c, d in re.findall(r"(\S+) (\S+) (\S+) (\S+) re", ops)
    ]


def test_barcode_size_on_the_page_is_within_the_spec() -> None:
    slip = make_slip(1)
    box = pdf.barcode_box(slip)
    assert box is not None
    ops = gs1.pdf_ops(slip.cvs_barcode, box.x, box.y, height=box.height)
    bars = _rects(ops)
    left = min(b[0] for b in bars)
    right = max(b[0] + b[2] for b in bars)
    heights = {round(b[3], 3) for b in bars}
    # bars from the drawing coordinates, plus the 2.54 mm quiet zones
    assert left - box.x == pytest.approx(2.54 * MM, abs=0.01)
    assert (right - left) / MM == pytest.approx(288 * 0.16933, abs=0.01)
    whole = (right - left) / MM + 2 * 2.54
    assert whole <= 60
    assert min(heights) / MM >= 10
    assert box.width / MM <= 60
    # nothing else drawn inside the quiet zones: the digits sit below the bars and
    # the eL番号 above; the drawn operators are in the page
    page = pypdf.PdfReader(io.BytesIO(pdf.render_bytes([slip]))).pages[0]
    assert ops.split("\n")[0].encode() in page.get_contents().get_data()  # type: ignore[union-attr]


def test_barcode_measured_on_the_raster_matches_the_drawing() -> None:
    slip = make_slip(1)
    page = by_format(pages_read(pdf.render_bytes([slip]))[0])
    pos = page["Code128"].position
    width_px = max(pos.top_right.x, pos.bottom_right.x) - min(pos.top_left.x, pos.bottom_left.x)
    assert width_px * 25.4 / DPI == pytest.approx(288 * 0.16933, abs=0.6)


def test_qr_size_and_quiet_zone() -> None:
    slip = make_slip(1)
    x, y, side = pdf.qr_box()
    rects = _rects(qr.pdf_ops(slip.elqr_payload, x, y, layout.QR_MODULE))
    assert min(r[0] for r in rects) == pytest.approx(x + 4 * layout.QR_MODULE, abs=0.01)
    assert max(r[0] + r[2] for r in rects) == pytest.approx(
        x + side - 4 * layout.QR_MODULE, abs=0.01
    )
    assert side / MM == pytest.approx(49 * 0.508, abs=0.05)
    # the caption and the eL番号 stay outside the quiet zone
    assert x + side < layout.EL_LEFT * MM
    assert (layout.PARTS[1].top + layout.QR_CAPTION_TOP - 2) * MM > layout.PAGE_H - y


def test_svg_is_accessible_xml_and_decodes() -> None:
    payload = make_slip(7).elqr_payload
    markup = qr.svg(payload, scale=4, label="地方税統一QRコード（eL-QR）「テスト」&")
    root = ET.fromstring(markup)  # noqa: S314 (our own markup)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "地方税統一QRコード（eL-QR）「テスト」&"
    assert root.get("width") == str(49 * 4)
    assert root.find(f"{ns}title") is not None
    assert "href" not in markup and "<script" not in markup
    # Rasterise the SVG's own geometry (its one path of "M x y h w v1 h-w z" runs) at
    # 8 px per module and read it back: the SVG's drawing, not segno's matrix, is read.
    path = root.find(f"{ns}path")
    assert path is not None
    scale = 8
    image = Image.new("L", (49 * scale, 49 * scale), 255)
    draw = ImageDraw.Draw(image)
    for mx, my, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d", "")):
        x0, y0 = int(mx) * scale, int(my) * scale
        draw.rectangle((x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1), fill=0)
    (code,) = zxingcpp.read_barcodes(image)
    assert_elqr(code, payload)


def test_svg_default_label() -> None:
    root = ET.fromstring(qr.svg(SPEC_ELQR))  # noqa: S314
    assert root.get("aria-label") == "eL-QR"


@settings(max_examples=25, deadline=None)
@given(st.text("0123456789", min_size=255, max_size=255))
def test_mask_choice_is_segnos_encoding_with_the_lowest_penalty(payload: str) -> None:
    mask, rows = qr.symbol(payload)
    code = segno.make_qr(
        payload, version=6, error="m", mode="numeric", boost_error=False, mask=mask
    )
    assert code.designator == "6-M"
    assert [
        int(bytes(r).translate(bytes.maketrans(b"\0\1", b"01")), 2) for r in code.matrix
    ] == list(rows)
    base = qr._row_ints(qr._encode(payload, 0))
    scores = []
    for delta in qr._mask_deltas():
        candidate = tuple(a ^ b for a, b in zip(base, delta, strict=True))
        scores.append(qr.penalty(candidate))
        assert scores[-1] == qr._penalty_reference(candidate)
    assert scores[mask] == min(scores)


def test_qr_rejects_what_is_not_an_eLQR_payload() -> None:
    with pytest.raises(qr.QrError):
        qr.symbol("1" * 254)
    with pytest.raises(qr.QrError):
        qr.symbol("a" * 255)


def test_gs1_pattern() -> None:
    pattern = gs1.modules(SPEC_CVS)
    assert len(pattern) == 288
    assert pattern.startswith("11010011100" + "11110101110")  # Start C, FNC1
    assert pattern.endswith("1100011101011")  # Stop
    assert gs1.human_readable(SPEC_CVS) == "(91)912345-242160000000000012345-0-261031-0-012345-2"
    with pytest.raises(gs1.Gs1Error):
        gs1.modules("12" + SPEC_CVS[2:])


def test_japanese_dates_and_money() -> None:
    assert layout.date_ja(dt.date(2026, 10, 31)) == "令和8年10月31日"
    assert layout.date_ja(dt.date(2019, 5, 1)) == "令和元年5月1日"
    assert layout.date_ja(dt.date(2019, 4, 30)) == "平成31年4月30日"
    assert layout.fiscal_ja(2019) == "令和元年度"
    assert layout.fiscal_ja(2018) == "平成30年度"
    assert layout.yen(1_234_567) == "¥1,234,567"
    with pytest.raises(ValueError):
        layout.yen(1.5)  # type: ignore[arg-type]
    assert pdf.postal("5188501") == "〒518-8501"


def test_long_address_stays_in_the_window() -> None:
    measure = lambda s: pdf.width(s, layout.MINCHO, 10.5)  # noqa: E731
    lines = layout.wrap("三重県伊賀市" * 20, layout.ADDRESS_WIDTH_MM * MM, measure, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(measure(line) <= layout.ADDRESS_WIDTH_MM * MM for line in lines)
    # the window of a 長形3号 envelope: 23–113 mm from the left, 12–57 mm from the top
    assert layout.ADDRESS_LEFT > 23 and layout.ADDRESS_LEFT + layout.ADDRESS_WIDTH_MM < 113
    assert layout.ADDRESS_POSTAL_TOP - 4 > 12 and layout.REFERENCE_TOP < 57
