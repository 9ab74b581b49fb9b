"""The JSON that each benchmark writes to bench/results/: the latest run per variant.

A helper module (no ``__main__`` block), imported by the benchmark scripts, which run
with bench/ first on ``sys.path``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def keep_latest_run(benchmark: str, result: dict[str, Any], output: Path, **goals: Any) -> None:
    """Put ``result`` in ``output`` under its ``variant`` (a database engine …), keeping the
    other variants' latest runs; ``meets_goal`` holds only if every kept run met it."""
    existing: dict[str, Any] = {}
    if output.exists():
        try:
            existing = json.loads(output.read_text(encoding="utf-8"))
        except ValueError:
            existing = {}
    runs = existing.get("runs") if isinstance(existing.get("runs"), dict) else {}
    runs[result["variant"]] = result
    document = {
        "benchmark": benchmark,
        "metric": result["metric"],
        **goals,
        "meets_goal": all(r["meets_goal"] for r in runs.values()),
        "runs": runs,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
