"""FAQ search speed: 5,000 FAQ entries through the service layer and the JSON API.

The shipped FAQ entries (``src/cityhall/inquiries/data/faq/*.csv``) plus generated
variants (sentences of the real entries recombined, deterministic seed) up to
``--entries``, stored in a scratch SQLite database. Measured in one run: index build time,
memory of the index (tracemalloc) and process RSS, p50/p95 latency of the realistic
queries through ``services.search.search()`` and through ``GET /api/v1/faq/search``
(Django test client, in process) — each against the character-bigram BM25 baseline over
the same documents.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "src"))

from faq_quality import FAQ_DIR, corpus_paths, load_cases, load_documents  # noqa: E402

RESULTS = HERE / "results" / "faq_search.json"
GOAL_P95_MS = 20.0

QUERIES = [
    "ごみの出し方",
    "燃えるごみの日",
    "そだいごみ",
    "粗大ゴミ 出したい",
    "ペットボトル 捨て方",
    "住民票ほしい",
    "じゅうみんひょう",
    "住民票の写し コンビニ",
    "転入届",
    "引っ越しの手続き",
    "印鑑登録",
    "戸籍謄本",
    "マイナンバーカード 作りたい",
    "マイナカード 暗証番号 忘れた",
    "国民健康保険 加入",
    "こくほ やめる",
    "年金 払えない",
    "住民税 納付書 なくした",
    "児童手当",
    "保育園 申し込み",
    "予防接種",
    "介護保険 サービス",
    "避難所 どこ",
    "税金 払い方",
    "軽自動車税",
    "所得証明書",
    "水道 引っ越し",
    "会社やめた 保険",
    "子どもが生まれた",
    "検診 受けたい",
    "how to sort garbage",
    "residence certificate",
    "lixo dia",
    "seguro de saúde",
    "thuế cư trú",
    "住民票副本",
    "bulky waste",
]


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": _ms(statistics.median(ordered)),
        "p95_ms": _ms(p95),
        "max_ms": _ms(ordered[-1]),
    }


def _generated_rows(real: list[dict[str, str]], total: int, seed: int) -> list[dict[str, str]]:
    """Variants of the real entries: question and answer sentences recombined."""
    rng = random.Random(seed)
    questions = [r["question"] for r in real]
    sentences = [s for r in real for s in re.split(r"(?<=。)", r["answer"]) if s.strip()]
    keys = sorted({r["id"] for r in real})
    rows: list[dict[str, str]] = []
    number = 0
    while len(keys) + number < total:
        number += 1
        q = rng.choice(questions)
        a = "".join(rng.sample(sentences, k=min(3, len(sentences))))
        rows.append(
            {
                "id": f"gen-{number:05d}",
                "language": "ja",
                "question": q,
                "answer": a,
                "keywords": "",
            }
        )
    return rows


def run(entries: int, seed: int, rounds: int) -> dict[str, Any]:
    docs = load_documents(corpus_paths(FAQ_DIR))
    real = [
        {
            "id": d.id,
            "language": d.language,
            "question": d.question,
            "answer": d.answer,
            "keywords": d.keywords,
            "category": d.category,
        }
        for d in docs
    ]
    rows = real + _generated_rows([r for r in real if r["language"] == "ja"], entries, seed)
    eval_queries = []
    for path in (HERE / "data" / "faq_eval.csv", HERE / "data" / "faq_eval_dev.csv"):
        if path.exists():
            eval_queries += [(c.query, c.language) for c in load_cases(path)]
    queries = [(q, "ja") for q in QUERIES] + eval_queries
    while len(queries) < 200:
        queries += queries
    queries = queries[: max(200, len(queries))]

    data_dir = tempfile.mkdtemp(prefix="cityhall-bench-faq-")
    from bench_db import setup_django

    setup_django(data_dir, "", CITYHALL_API_RATE="1000000/s", CITYHALL_FAQ_SYNONYMS="")
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from cityhall.inquiries.models import FaqEntry, FaqText
    from cityhall.inquiries.search.baseline import BaselineEngine
    from cityhall.inquiries.search.engine import Document
    from cityhall.inquiries.services import search

    synonyms_path = (
        HERE.parent / "src" / "cityhall" / "inquiries" / "search" / "data" / "synonyms.txt"
    )
    settings.FAQ_SYNONYMS = str(synonyms_path)
    keys = sorted({r["id"] for r in rows})
    category = {r["id"]: r.get("category") or "other" for r in rows}
    FaqEntry.objects.bulk_create(
        [FaqEntry(key=k, category=category[k][:20] or "other") for k in keys], batch_size=500
    )
    ids = dict(FaqEntry.objects.values_list("key", "pk"))
    seen: set[tuple[str, str]] = set()
    texts = []
    for r in rows:
        if (r["id"], r["language"]) in seen:
            continue
        seen.add((r["id"], r["language"]))
        texts.append(
            FaqText(
                entry_id=ids[r["id"]],
                language=r["language"],
                question=r["question"][:500],
                answer=r["answer"],
                keywords=(r.get("keywords") or "")[:500],
            )
        )
    FaqText.objects.bulk_create(texts, batch_size=500)
    documents = [
        Document(r["id"], r["language"], r["question"], r["answer"], r.get("keywords") or "")
        for r in rows
    ]

    started = time.perf_counter()
    search.synonyms()
    synonyms_s = time.perf_counter() - started

    # Build times untraced; memory from a second, traced build (tracemalloc slows it).
    search.invalidate()
    started = time.perf_counter()
    search.search("ごみ")
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline = BaselineEngine.build(documents)
    baseline_build_s = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    gc.collect()
    tracemalloc.start()
    search.invalidate()
    search.search("ごみ")
    engine_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    gc.collect()
    tracemalloc.start()
    traced_baseline = BaselineEngine.build(documents)
    baseline_bytes = tracemalloc.get_traced_memory()[0]
    del traced_baseline
    tracemalloc.stop()

    client = Client()
    for q, lang in queries[:20]:  # warm-up
        search.search(q, lang)
        baseline.search(q, lang)
    service: list[float] = []
    api: list[float] = []
    base: list[float] = []
    failures = 0
    for _ in range(rounds):
        for q, lang in queries:
            t0 = time.perf_counter()
            search.search(q, lang, 10)
            service.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            response = client.get("/api/v1/faq/search", {"q": q, "lang": lang, "limit": 10})
            api.append(time.perf_counter() - t0)
            failures += response.status_code != 200
            t0 = time.perf_counter()
            baseline.search(q, lang, 10)
            base.append(time.perf_counter() - t0)
    service_p = _percentiles(service)
    return {
        "variant": "sqlite",
        "metric": "p95_ms",
        "entries": len(keys),
        "documents": len(documents),
        "queries": len(queries),
        "rounds": rounds,
        "failures": failures,
        "synonyms_load_s": round(synonyms_s, 3),
        "build_s": round(build_s, 3),
        "baseline_build_s": round(baseline_build_s, 3),
        "index_mb": round(engine_bytes / 2**20, 1),
        "baseline_index_mb": round(baseline_bytes / 2**20, 1),
        "max_rss_mb": round(rss_mb, 1),
        "service": service_p,
        "api": _percentiles(api),
        "baseline": _percentiles(base),
        "meets_goal": service_p["p95_ms"] <= GOAL_P95_MS and failures == 0,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def table(r: dict[str, Any]) -> str:
    b = r["baseline"]

    def ratio(x: float, y: float) -> str:
        return f"{x / y:.1f}×" if y else "—"

    rows = [
        (
            "search() p50 ms",
            f"{r['service']['p50_ms']:.2f}",
            f"{b['p50_ms']:.2f}",
            ratio(r["service"]["p50_ms"], b["p50_ms"]),
        ),
        (
            "search() p95 ms",
            f"{r['service']['p95_ms']:.2f}",
            f"{b['p95_ms']:.2f}",
            ratio(r["service"]["p95_ms"], b["p95_ms"]),
        ),
        (
            "API p50 ms",
            f"{r['api']['p50_ms']:.2f}",
            f"{b['p50_ms']:.2f}",
            ratio(r["api"]["p50_ms"], b["p50_ms"]),
        ),
        (
            "API p95 ms",
            f"{r['api']['p95_ms']:.2f}",
            f"{b['p95_ms']:.2f}",
            ratio(r["api"]["p95_ms"], b["p95_ms"]),
        ),
        (
            "index build s",
            f"{r['build_s']:.2f}",
            f"{r['baseline_build_s']:.2f}",
            ratio(r["build_s"], r["baseline_build_s"]),
        ),
        (
            "index memory MB",
            f"{r['index_mb']:.1f}",
            f"{r['baseline_index_mb']:.1f}",
            ratio(r["index_mb"], r["baseline_index_mb"]),
        ),
    ]
    header = ("figure", "engine", "baseline", "ratio")
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(4)]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [
        f"FAQ search: {r['entries']:,} entries ({r['documents']:,} language versions), "
        f"{r['queries']} queries × {r['rounds']} rounds; baseline = char-bigram BM25 engine "
        "alone (no DB, no API)",
        line.format(*header),
        "-" * (sum(widths) + 6),
        *(line.format(*row) for row in rows),
        f"synonyms loaded in {r['synonyms_load_s']} s; max RSS {r['max_rss_mb']} MB; "
        f"failed requests {r['failures']}",
        f"goal search() p95 ≤ {GOAL_P95_MS:.0f} ms: {'met' if r['meets_goal'] else '✗ MISSED'}",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=5000, help="FAQ entries (5000)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries (3)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (2024)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    result = run(args.entries, args.seed, args.rounds)
    print(table(result))
    from bench_results import keep_latest_run

    keep_latest_run("faq_search", result, args.output, goal_p95_ms=GOAL_P95_MS)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
