"""Benchmark: 納付書 PDFs — slips per second on one core, peak memory, file size.

    uv run python bench/slips.py [--slips 10000] [--baseline-slips 1000]

Data (not timed): ``--slips`` distinct slips, each with its own eL-QR payload built by
``codes.elqr.build`` (amounts from 1 yen to 450,000 yen; about one in eight over the
300,000-yen agent limit, so without a barcode) and GS1-128 code built by
``codes.cvs.build``; one in ten is a reissue.

Measured, each in its own process pinned to one CPU core (``sched_setaffinity``), the
PDF written to a file on disk:

- fast: ``slips.pdf.render`` — the static parts as one Form XObject, the codes as
  vector paths, one text object per page, compressed streams (the default);
- fast, uncompressed: the same with ``pageCompression=0`` (the cost of compression);
- naive baseline, in the same run: what a first version does — the eL-QR and the
  barcode rendered per slip as PNG images (segno at 6 px per module, python-barcode's
  ImageWriter at 300 dpi) and pasted with ``drawImage``, the fonts registered again for
  every page, the static parts drawn again on every page, ReportLab's default stream
  encoding (ASCII85 + Flate). The text is drawn by the same code as the fast renderer.
  It runs ``--baseline-slips`` slips (default 1,000) and its rate is per slip, so the
  table scales it to the full count.

Figures: slips/s (wall clock of render only), peak RSS of the process (``ru_maxrss``)
and its growth during the render, file size. Goal: ≥ 200 slips/s. Prints a table;
writes bench/results/slips.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

GOAL = 200.0
RESULTS = Path(__file__).resolve().parent / "results" / "slips.json"


def make_slips(count: int) -> list[Any]:
    from cityhall.payments.codes import cvs, elqr
    from cityhall.payments.slips.data import SlipData

    slips = []
    families = ("伊賀", "上野", "服部", "中井", "福田", "森", "山本", "田中")
    given = ("花子", "太郎", "美咲", "健太", "陽菜", "翔", "さくら", "大輝")
    for n in range(count):
        amount = 1 + (n * 7_919) % 450_000
        due = dt.date(2026, 10, 31)
        notice = f"{2026:08d}{n:012d}"
        check = f"{(n * 104_729) % 1_000_000:06d}"
        period = 1 + n % 4
        payload = elqr.build(
            elqr.ElQr(amount, "011", notice, check, "24216", "000", 2026, 2026, period, due, due)
        )
        reissue = 1 if n % 10 == 9 else 0
        code = ""
        if amount <= 300_000:
            code = cvs.build(
                cvs.CvsBarcode("912345", cvs.free_field("011", notice[-12:]), reissue, due, amount)
            )
        slips.append(
            SlipData(
                notice_number=notice,
                check_number=check,
                tax_code="011",
                institution_code="24216",
                kind_name="個人住民税（普通徴収）",
                fiscal_year=2026,
                period=period,
                amount_yen=amount,
                due_date=due,
                pay_by=due,
                payer_name=f"{families[n % 8]} {given[(n // 8) % 8]}",
                payer_postal_code="5188501",
                payer_address=f"三重県伊賀市上野丸之内{n % 500 + 1}番地",
                charge_reference=f"R08-{n:06d}",
                elqr_payload=payload,
                cvs_barcode=code,
                reissue=reissue,
                issued_on=dt.date(2026, 6, 1),
                issuer="伊賀市長",
                contact="伊賀市 収納課 0595-22-9620",
                account_code="01-100",
            )
        )
    return slips


def naive_render(slips: Iterable[Any], out: BinaryIO) -> int:
    """The baseline: raster codes pasted per slip, fonts and static parts per page."""
    import segno
    from barcode.codex import Gs1_128
    from barcode.writer import ImageWriter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    from cityhall.payments.slips import gs1, pdf
    from cityhall.payments.slips import layout as L

    canvas = pdf.new_canvas(out)
    pages = 0
    for slip in slips:
        pdfmetrics.registerFont(UnicodeCIDFont(L.GOTHIC))
        pdfmetrics.registerFont(UnicodeCIDFont(L.MINCHO))
        pdf.draw_static(canvas)
        pdf.draw_text(canvas, slip)
        png = io.BytesIO()
        segno.make_qr(slip.elqr_payload, version=6, error="m").save(
            png, kind="png", scale=6, border=4
        )
        png.seek(0)
        x, y, side = pdf.qr_box()
        canvas.drawImage(ImageReader(png), x, y, side, side)
        box = pdf.barcode_box(slip)
        if box is not None:
            png = io.BytesIO()
            Gs1_128(slip.cvs_barcode, writer=ImageWriter()).write(
                png,
                {
                    "module_width": 0.1693,
                    "module_height": 11.0,
                    "quiet_zone": 2.54,
                    "dpi": 300,
                    "write_text": False,
                },
            )
            png.seek(0)
            canvas.drawImage(ImageReader(png), box.x, box.y, gs1.symbol_width(), box.height)
        canvas.showPage()
        pages += 1
    canvas.save()
    return pages


def worker(kind: str, count: int) -> dict[str, Any]:
    """Run one measurement in this process (called in a child)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from cityhall.payments.slips import pdf

    slips = make_slips(count)
    pdf.setup_fonts()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "slips.pdf"
        with path.open("wb") as out:
            started = time.perf_counter()
            if kind == "fast":
                pages = pdf.render(slips, out)
            elif kind == "fast-uncompressed":
                pages = pdf.render(slips, out, compression=0)
            else:
                pages = naive_render(slips, out)
            seconds = time.perf_counter() - started
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "kind": kind,
        "slips": count,
        "pages": pages,
        "seconds": seconds,
        "slips_per_s": pages / seconds,
        "peak_rss_mb": peak / 1024,
        "rss_growth_mb": (peak - before) / 1024,
        "file_mb": size / 1e6,
        "bytes_per_slip": size / pages,
    }


def run_child(kind: str, count: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--slips", str(count)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slips", type=int, default=10_000, help="slips for the renderer")
    parser.add_argument("--baseline-slips", type=int, default=1_000, help="slips for the baseline")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.slips)))
        return 0

    load_before = os.getloadavg()
    fast = run_child("fast", args.slips)
    plain = run_child("fast-uncompressed", args.slips)
    naive = run_child("naive", args.baseline_slips)
    ratio = fast["slips_per_s"] / naive["slips_per_s"]
    meets = fast["slips_per_s"] >= GOAL
    rows = [
        ("fast (default: Form XObject, vector codes, Flate)", fast),
        ("fast, streams uncompressed", plain),
        (f"naive baseline ({naive['slips']:,} slips, rate scaled)", naive),
    ]
    print(
        f"\n納付書 PDF, {args.slips:,} slips, one core "
        f"({platform.processor() or platform.machine()}, load {load_before[0]:.1f})"
    )
    print(f"{'':54} {'slips/s':>9} {'time':>10} {'peak RSS':>10} {'growth':>9} {'KB/slip':>8}")
    for label, r in rows:
        full = args.slips / r["slips_per_s"]
        scaled = " (est.)" if r["slips"] != args.slips else ""
        print(
            f"{label:54} {r['slips_per_s']:9.1f} {full:8.1f} s{scaled} {r['peak_rss_mb']:8.0f} MB "
            f"{r['rss_growth_mb']:7.0f} MB {r['bytes_per_slip'] / 1000:8.1f}"
        )
    print(f"ratio fast / naive: {ratio:.1f}×")
    print(f"goal ≥ {GOAL:.0f} slips/s: {'met' if meets else '✗ MISSED'}")
    print(
        f"uncompressed streams: {1 - plain['slips_per_s'] / fast['slips_per_s']:.0%} slower, "
        f"file {plain['file_mb'] / fast['file_mb']:.1f}× larger"
    )
    document = {
        "benchmark": "slips",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_before": load_before,
        },
        "goal_slips_per_s": GOAL,
        "value": fast["slips_per_s"],
        "meets_goal": meets,
        "ratio_to_naive": ratio,
        "fast": fast,
        "fast_uncompressed": plain,
        "naive": naive,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
