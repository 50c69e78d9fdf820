"""Run the benchmarks, each module in a process of its own, and print only their figures.

`python -m bench` runs every `bench_*` module; `python -m bench bench_cost bench_collector` runs
those. A module runs in a fresh interpreter (`python -m bench --child NAME PATH`) so that one
bench's imports, caches and memory peak never colour another's figures, and hands its figures
back through a file: whatever else it writes (Powertools' metric lines and logs from the
handlers it drives) is discarded, and stderr is passed through for warnings and failures.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench
from bench.common import ROOT


def modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")]


def run_child(name: str, out: Path) -> None:
    """In the child: run one module and write its figures to `out` as JSON."""
    import importlib

    from bench.common import quiet_powertools

    quiet_powertools()
    module = importlib.import_module(f"bench.{name}")
    figures = [[str(label), str(figure)] for label, figure in module.run()]
    out.write_text(json.dumps(figures))


def run_module(name: str) -> tuple[list[tuple[str, str]], float, int]:
    """(figures, wall seconds, exit code) of one module run in its own interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--child", name, str(out)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        seconds = time.perf_counter() - started
        figures = [(label, figure) for label, figure in json.loads(out.read_text())] if out.exists() else []
        return figures, seconds, done.returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        run_child(argv[1], Path(argv[2]))
        return 0
    names = argv or modules()
    unknown = sorted(set(names) - set(modules()))
    if unknown:
        print(f"unknown bench modules: {', '.join(unknown)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        print(f"== {name}", flush=True)
        figures, seconds, code = run_module(name)
        for label, figure in figures:
            print(f"  {label:<88} {figure}", flush=True)
        if code:
            failed += 1
            print(f"  FAILED (exit {code}, {seconds:.0f} s): see stderr above", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
