"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_function(function: str) -> ModuleType:
    path = ROOT / "functions" / function / "app.py"
    name = f"_bench_{function}_{uuid.uuid4().hex[:6]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def best_of(runs: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(runs))


def median_seconds(runs: int, work: Callable[[], object]) -> float:
    """The median wall time of `runs` calls of `work`: the p50 the query-shaped benches print."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def callgrind_collected(module: str, *args: str, env: dict[str, str] | None = None) -> int:
    """Instructions callgrind counts inside `functools.reduce` in `python -m module --callgrind-pass
    *args`: the bench's pass wraps only its measured work in reduce, so imports and setup are not
    counted, and the count does not move with the machine's load."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--toggle-collect=functools_reduce",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            module,
            "--callgrind-pass",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if not found:
        raise RuntimeError(f"no callgrind total in: {done.stderr[-500:]}")
    return int(found.group(1))


def fresh_interpreter_ms(code: str, runs: int = 5) -> float:
    """Median wall time of `code` (which prints its own elapsed ms) in fresh interpreters."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def quiet_powertools() -> None:
    """No "no metrics to publish" warning from the handlers a bench drives (once per call site
    otherwise, and noise in the figures). Their EMF and log lines still go to stdout, which
    `python -m bench` discards."""
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")


# Memory: peak RSS growth within this process. `ru_maxrss` cannot say it: Linux keeps a
# process's high-water mark across fork and exec, so a bench started by a big parent (another
# bench, pytest) reads the parent's peak. /proc/self/status's VmHWM belongs to the current
# address space, and writing 5 to /proc/self/clear_refs resets it to the current RSS.


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def reset_peak_rss() -> float:
    """Start a peak measurement here; returns the current RSS (MB) it is measured from."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return rss_mb()


def peak_rss_mb() -> float:
    return _status_kb("VmHWM") / 1024
