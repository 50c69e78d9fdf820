"""The long fuzz run (issue 13): tests/fuzz with many examples per route and fresh randomness.

`make test` runs 150 hostile examples per route from a fixed sequence; this runs
`FUZZ_EXAMPLES` (or `python -m bench.bench_fuzz N`) per route with new random draws and prints
how each route answered. Any 5xx, a 4xx that is not a JSON error, or a good request lost among
the bad ones fails the run (and the failing example is printed by hypothesis).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ_EXAMPLES = 2_000


def fuzz(examples: int) -> tuple[int, float, list[dict[str, object]]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        env = {
            **os.environ,
            "TOUCHLINE_FUZZ_EXAMPLES": str(examples),
            "TOUCHLINE_FUZZ_RANDOM": "1",
            "TOUCHLINE_FUZZ_REPORT": str(report),
        }
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/fuzz",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:logging",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            # Powertools logs JSON lines to stdout; the pytest report is the rest.
            print("\n".join(line for line in result.stdout.splitlines() if not line.startswith("{")))
        lines = report.read_text().splitlines() if report.exists() else []
    return result.returncode, seconds, [json.loads(line) for line in lines]


def run(examples: int = FUZZ_EXAMPLES) -> list[tuple[str, str]]:
    code, seconds, routes = fuzz(examples)
    figures: list[tuple[str, str]] = []
    total: Counter[str] = Counter()
    for route in routes:
        statuses = Counter({str(k): int(v) for k, v in dict(route["statuses"]).items()})  # type: ignore[call-overload]
        total.update(statuses)
        shown = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        figures.append((f"{route['route']} (good stored: {route['good']})", shown))
    requests = sum(total.values())
    fivexx = sum(n for status, n in total.items() if status.startswith("5"))
    figures.append(("hostile requests, all routes", str(requests)))
    figures.append(("answered 5xx", str(fivexx)))
    figures.append(
        ("seconds (ms per hostile request)", f"{seconds:.0f} ({1000 * seconds / max(1, requests):.1f})")
    )
    figures.append(("result", "passed" if code == 0 else f"FAILED (pytest exit {code})"))
    return figures


if __name__ == "__main__":
    for label, figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else FUZZ_EXAMPLES):
        print(f"  {label:<72} {figure}")
