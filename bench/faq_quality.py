"""FAQ search quality: Hit@1, Hit@3, Hit@10 and MRR of the engine against its baselines.

Pure engine over the shipped FAQ CSVs (``src/cityhall/inquiries/data/faq/*.csv``; the small
development corpus ``bench/data/faq_dev_corpus.csv`` when none is there yet) and an
evaluation set of resident questions (``bench/data/faq_eval.csv``; the development set
``bench/data/faq_eval_dev.csv`` over its own small corpus; the development set of kana-only
and typo queries ``bench/data/faq_eval_dev_kana.csv`` over the shipped CSVs: columns
``query,expected,language,kind``; ``expected`` may list several ids separated by ``|``).
No Django, no database: it takes seconds.

Systems: the character-bigram BM25 baseline (question + answer, no synonyms, no fields),
Sudachi BM25 (words only, one field, no synonyms), the full engine, and the full engine
with one part switched off at a time (what each part brings). Per ``kind`` of query
(paraphrase, colloquial, hiragana, typo, other-language …) for the full engine.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from cityhall.inquiries.search.analysis import JapaneseOptions  # noqa: E402
from cityhall.inquiries.search.baseline import BaselineEngine  # noqa: E402
from cityhall.inquiries.search.engine import Document, EngineConfig, FaqEngine  # noqa: E402
from cityhall.inquiries.search.synonyms import Synonyms  # noqa: E402

FAQ_DIR = ROOT / "src" / "cityhall" / "inquiries" / "data" / "faq"
DEV_CORPUS = HERE / "data" / "faq_dev_corpus.csv"
EVAL_SETS = [
    HERE / "data" / "faq_eval.csv",
    HERE / "data" / "faq_eval_dev.csv",
    HERE / "data" / "faq_eval_dev_kana.csv",
]
SYNONYMS = ROOT / "src" / "cityhall" / "inquiries" / "search" / "data" / "synonyms.txt"
RESULTS = HERE / "results" / "faq_quality.json"
GOAL_HIT1 = 0.5
GOAL_HIT10 = 0.85


class Engine(Protocol):
    def search(
        self, query: str, language: str | None = None, limit: int = 10
    ) -> list[tuple[str, float]]: ...


@dataclasses.dataclass(frozen=True)
class Case:
    query: str
    expected: frozenset[str]
    language: str
    kind: str


#: Japanese column names (as import-faq understands them) → ours.
HEADER_ALIASES = {
    "番号": "id",
    "質問": "question",
    "問い": "question",
    "回答": "answer",
    "答え": "answer",
    "分類": "category",
    "言語": "language",
    "キーワード": "keywords",
}


def _read_text(path: Path) -> str:
    """UTF-8 (with or without BOM) or CP932, like import-faq."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp932")


def _rows(path: Path) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    header = [HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in next(reader, [])]
    return [dict(zip(header, cells, strict=False)) for cells in reader]


def load_documents(paths: Sequence[Path]) -> list[Document]:
    docs: list[Document] = []
    for path in paths:
        for row in _rows(path):
            if not row.get("id") or not (row.get("question") or "").strip():
                continue
            docs.append(
                Document(
                    id=row["id"].strip(),
                    language=(row.get("language") or "ja").strip(),
                    question=row.get("question") or "",
                    answer=row.get("answer") or "",
                    keywords=row.get("keywords") or "",
                    category=row.get("category") or "",
                )
            )
    return docs


def corpus_paths(faq_dir: Path) -> list[Path]:
    if faq_dir.is_file():
        return [faq_dir]
    shipped = sorted(faq_dir.glob("*.csv"))
    return shipped or [DEV_CORPUS]


def load_cases(path: Path) -> list[Case]:
    with io.StringIO(_read_text(path), newline="") as handle:
        return [
            Case(
                query=row["query"],
                expected=frozenset(x.strip() for x in row["expected"].split("|") if x.strip()),
                language=(row.get("language") or "ja").strip(),
                kind=(row.get("kind") or "other").strip() or "other",
            )
            for row in csv.DictReader(handle)
            if row.get("query") and row.get("expected")
        ]


def evaluate(engine: Engine, cases: Sequence[Case]) -> dict[str, Any]:
    hits = {1: 0, 3: 0, 10: 0}
    reciprocal = 0.0
    misses: list[dict[str, Any]] = []
    right_scores: list[float] = []  # the top score when the first answer is right …
    wrong_scores: list[float] = []  # … and when it is wrong: where CITYHALL_FAQ_MIN_SCORE goes
    for case in cases:
        found = engine.search(case.query, case.language, limit=10)
        ranked = [faq_id for faq_id, _ in found]
        if found:
            (right_scores if found[0][0] in case.expected else wrong_scores).append(found[0][1])
        rank = next((i + 1 for i, faq_id in enumerate(ranked) if faq_id in case.expected), None)
        if rank is not None:
            reciprocal += 1.0 / rank
            for k in hits:
                if rank <= k:
                    hits[k] += 1
        if rank != 1:
            misses.append(
                {"query": case.query, "expected": sorted(case.expected), "got": ranked[:3]}
            )
    n = max(len(cases), 1)
    return {
        "hit1": hits[1] / n,
        "hit3": hits[3] / n,
        "hit10": hits[10] / n,
        "mrr": reciprocal / n,
        "n": len(cases),
        "top_score_right": _percentiles(right_scores, (0.05, 0.10, 0.50)),
        "top_score_wrong": _percentiles(wrong_scores, (0.10, 0.50, 0.90)),
        "misses": misses,
    }


def _percentiles(values: Sequence[float], points: Sequence[float]) -> list[float]:
    ordered = sorted(values)
    if not ordered:
        return []
    return [round(ordered[min(int(len(ordered) * p), len(ordered) - 1)], 2) for p in points]


def systems(docs: Sequence[Document], synonyms: Synonyms) -> list[tuple[str, Callable[[], Engine]]]:
    full = EngineConfig()
    no_kinds = {k: v for k, v in full.kinds.items() if k not in {"g", "r", "t"}}
    return [
        ("char-bigram BM25 (baseline)", lambda: BaselineEngine.build(docs)),
        (
            "Sudachi BM25 (words, one field, no synonyms)",
            lambda: FaqEngine.build(
                docs,
                None,
                EngineConfig(
                    single_field=True,
                    kinds={"w": 1.0, "v": 0.5},
                    typo_weight=0.0,
                    japanese=JapaneseOptions(
                        split_compounds=False, readings=False, stop_words=False
                    ),
                ),
                glossary=None,
            ),
        ),
        ("full engine", lambda: FaqEngine.build(docs, synonyms, full)),
        ("  without glossary", lambda: FaqEngine.build(docs, synonyms, full, glossary=None)),
        ("  without synonyms", lambda: FaqEngine.build(docs, None, full)),
        (
            "  without n-gram fallback",
            lambda: FaqEngine.build(docs, synonyms, dataclasses.replace(full, kinds=no_kinds)),
        ),
        (
            "  without readings",
            lambda: FaqEngine.build(
                docs,
                synonyms,
                dataclasses.replace(
                    full,
                    kinds={k: v for k, v in full.kinds.items() if k not in {"y", "r"}},
                    japanese=JapaneseOptions(readings=False),
                ),
            ),
        ),
        (
            "  without reading field (p)",
            lambda: FaqEngine.build(
                docs,
                synonyms,
                dataclasses.replace(full, kinds={k: v for k, v in full.kinds.items() if k != "p"}),
            ),
        ),
        (
            "  without typo correction",
            lambda: FaqEngine.build(docs, synonyms, dataclasses.replace(full, typo_weight=0.0)),
        ),
        (
            "  without compound split (mode C only)",
            lambda: FaqEngine.build(
                docs,
                synonyms,
                dataclasses.replace(full, japanese=JapaneseOptions(split_compounds=False)),
            ),
        ),
        (
            "  without stop words",
            lambda: FaqEngine.build(
                docs,
                synonyms,
                dataclasses.replace(full, japanese=JapaneseOptions(stop_words=False)),
            ),
        ),
        (
            "  one field (no field weights)",
            lambda: FaqEngine.build(docs, synonyms, dataclasses.replace(full, single_field=True)),
        ),
    ]


def run(faq_dir: Path, eval_paths: Sequence[Path], show_misses: bool) -> dict[str, Any]:
    """Each evaluation set against its corpus: ``faq_eval_dev.csv`` against the development
    corpus, any other against the shipped CSVs."""
    started = time.perf_counter()
    synonyms = Synonyms.load(SYNONYMS)
    synonyms_seconds = time.perf_counter() - started
    sets = {p.name: load_cases(p) for p in eval_paths if p.exists()}
    if not sets:
        raise SystemExit("no evaluation set found (bench/data/faq_eval*.csv)")
    corpora = {
        name: [DEV_CORPUS] if name == "faq_eval_dev.csv" else corpus_paths(faq_dir) for name in sets
    }
    rows: list[dict[str, Any]] = []
    per_kind: dict[str, dict[str, Any]] = {}
    corpus_info: dict[str, Any] = {}
    for set_name, cases in sets.items():
        docs = load_documents(corpora[set_name])
        corpus_info[set_name] = {
            "files": [
                str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name
                for p in corpora[set_name]
            ],
            "documents": len(docs),
            "faq_entries": len({d.id for d in docs}),
        }
        for name, build in systems(docs, synonyms):
            started = time.perf_counter()
            engine = build()
            build_seconds = time.perf_counter() - started
            figures = evaluate(engine, cases)
            if not show_misses:
                figures.pop("misses")
            rows.append({"system": name, "eval_set": set_name, "build_s": build_seconds, **figures})
            if name == "full engine":
                kinds = sorted({c.kind for c in cases})
                per_kind[set_name] = {
                    kind: {
                        k: v
                        for k, v in evaluate(engine, [c for c in cases if c.kind == kind]).items()
                        if k != "misses"
                    }
                    for kind in kinds
                }
    main_set = next(iter(sets))
    full = next(r for r in rows if r["system"] == "full engine" and r["eval_set"] == main_set)
    return {
        "variant": main_set,
        "metric": "hit@1",
        "corpora": corpus_info,
        "synonyms_load_s": round(synonyms_seconds, 3),
        "synonym_headwords": len(synonyms),
        "eval_sets": {k: len(v) for k, v in sets.items()},
        "rows": rows,
        "per_kind": per_kind,
        "meets_goal": full["hit1"] > GOAL_HIT1 and full["hit10"] > GOAL_HIT10,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    return [
        line.format(*header),
        "-" * (sum(widths) + 2 * (len(widths) - 1)),
        *(line.format(*r) for r in rows),
    ]


def table(result: dict[str, Any]) -> str:
    out = [
        f"FAQ search quality; synonyms: {result['synonym_headwords']:,} headwords loaded in "
        f"{result['synonyms_load_s']} s"
    ]
    for set_name, n in result["eval_sets"].items():
        rows = [r for r in result["rows"] if r["eval_set"] == set_name]
        base = rows[0]
        corpus = result["corpora"][set_name]
        out.append("")
        out.append(
            f"{set_name} ({n} queries) over {corpus['faq_entries']} FAQ entries "
            f"({corpus['documents']} language versions, {len(corpus['files'])} CSV files)"
        )
        out += _grid(
            ("system", "Hit@1", "Hit@3", "Hit@10", "MRR", "n", "MRR ratio", "build s"),
            [
                (
                    r["system"],
                    f"{r['hit1']:.3f}",
                    f"{r['hit3']:.3f}",
                    f"{r['hit10']:.3f}",
                    f"{r['mrr']:.3f}",
                    str(r["n"]),
                    f"{r['mrr'] / base['mrr']:.2f}×" if base["mrr"] else "—",
                    f"{r['build_s']:.2f}",
                )
                for r in rows
            ],
        )
        full = next(r for r in rows if r["system"] == "full engine")
        if full["top_score_right"] and full["top_score_wrong"]:
            right, wrong = full["top_score_right"], full["top_score_wrong"]
            out.append(
                f"full engine's top score: right first answers p5/p10/p50 "
                f"{right[0]}/{right[1]}/{right[2]}; wrong ones p10/p50/p90 "
                f"{wrong[0]}/{wrong[1]}/{wrong[2]} (CITYHALL_FAQ_MIN_SCORE goes below the "
                "right ones' p5)"
            )
        out.append(f"full engine per kind ({set_name})")
        out += _grid(
            ("kind", "Hit@1", "Hit@3", "Hit@10", "MRR", "n"),
            [
                (
                    kind,
                    f"{f['hit1']:.3f}",
                    f"{f['hit3']:.3f}",
                    f"{f['hit10']:.3f}",
                    f"{f['mrr']:.3f}",
                    str(f["n"]),
                )
                for kind, f in result["per_kind"][set_name].items()
            ],
        )
        for r in rows:
            if r["system"] == "full engine" and r.get("misses"):
                out.append("misses of the full engine (expected → top 3):")
                out += [
                    f"  {m['query']!r}: {'|'.join(m['expected'])} → {', '.join(m['got'])}"
                    for m in r["misses"]
                ]
    out.append("")
    out.append(
        f"goal on {result['variant']}: full engine Hit@1 > {GOAL_HIT1}, Hit@10 > {GOAL_HIT10}: "
        f"{'met' if result['meets_goal'] else '✗ MISSED'}"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--faq-dir", type=Path, default=FAQ_DIR, help="folder of FAQ CSVs")
    parser.add_argument(
        "--eval", type=Path, action="append", help="evaluation CSV (repeatable; default: both)"
    )
    parser.add_argument("--misses", action="store_true", help="list the full engine's misses")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    result = run(args.faq_dir, args.eval or EVAL_SETS, args.misses)
    print(table(result))
    sys.path.insert(0, str(HERE))
    from bench_results import keep_latest_run

    keep_latest_run("faq_quality", result, args.output, goal_hit1=GOAL_HIT1, goal_hit10=GOAL_HIT10)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
