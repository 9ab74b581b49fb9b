"""Run every benchmark in bench/: each ``bench/*.py`` that runs as a script, but this one.

    uv run python bench/run_all.py [--only NAME ...] [--timeout SECONDS]

Helper modules (``bench_settings.py``, ``bare_urls.py`` …) have no ``__main__`` block
and are left alone. Each benchmark runs in its own process, one after the other (so
they never compete for the CPU), prints its own table and writes its JSON to
``bench/results/``. The exit status is non-zero when any benchmark failed or ran past
its time limit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MAIN_BLOCK = ('if __name__ == "__main__"', "if __name__ == '__main__'")


def benchmarks() -> list[Path]:
    found = []
    for path in sorted(BENCH.glob("*.py")):
        if path.name == Path(__file__).name or path.name.startswith("_"):
            continue
        if any(marker in path.read_text(encoding="utf-8") for marker in MAIN_BLOCK):
            found.append(path)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names (no .py)")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds each benchmark may run (1800)"
    )
    args = parser.parse_args()

    chosen = benchmarks()
    if args.only:
        chosen = [p for p in chosen if p.stem in set(args.only)]
    if not chosen:
        print("no benchmarks to run")
        return 1
    outcomes: list[tuple[str, str, float]] = []
    for path in chosen:
        print(f"\n========== bench/{path.name} ==========", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, str(path)],
                cwd=BENCH.parent,
                stdin=subprocess.DEVNULL,
                timeout=args.timeout,
                check=False,
            )
            outcome = "ok" if done.returncode == 0 else f"failed (exit {done.returncode})"
        except subprocess.TimeoutExpired:
            outcome = f"timed out after {args.timeout:.0f} s"
        outcomes.append((path.name, outcome, time.monotonic() - started))

    print("\n========== summary ==========")
    width = max(len(name) for name, _, _ in outcomes)
    for name, outcome, seconds in outcomes:
        print(f"{name.ljust(width)}  {outcome}  ({seconds:.0f} s)")
    return 0 if all(outcome == "ok" for _, outcome, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
