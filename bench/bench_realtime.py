"""How stale realtime is (docs/realtime.md): on `touchline dev`, the time from a hit's `202` to
`GET /api/v2/realtime` counting it, alone and while other traffic loads the collector and the
loader; and what one realtime request costs while it does.

A probe site gets only probes (one pageview every PROBE_EVERY seconds); each probe is seen once
the answer's `newest_event_at` reaches its time. The background load posts pageviews to another
site from LOAD_THREADS threads as fast as the stack takes them. Figures are medians and p95s of
the probes, and the loaded ones as ratios to the idle ones measured in the same run.

    python -m bench.bench_realtime            # TOUCHLINE_BENCH_REALTIME_SECONDS (default 40) per phase
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT

sys.path.insert(0, str(ROOT / "tests" / "e2e"))

PROBE = "probe.example.com"
LOADED = "busy.example.com"
PROBE_EVERY = 1.0
LOAD_THREADS = 4
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _post(port: int, domain: str, path: str, ip: str) -> float:
    body = json.dumps({"name": "pageview", "url": f"https://{domain}{path}", "domain": domain}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/event",
        data=body,
        method="POST",
        headers={"content-type": "application/json", "user-agent": UA, "x-forwarded-for": ip},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
    return time.time()


def _realtime(port: int, key: str) -> tuple[dict[str, Any], float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/realtime?site_id={PROBE}", headers={"authorization": f"Bearer {key}"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    return answer, time.perf_counter() - started


def _phase(port: int, key: str, seconds: float, load: bool) -> dict[str, Any]:
    stop = threading.Event()
    sent = [0]

    def background(n: int) -> None:
        i = 0
        while not stop.is_set():
            _post(port, LOADED, f"/page/{i % 50}", f"198.51.100.{n}")
            sent[0] += 1
            i += 1

    threads = [
        threading.Thread(target=background, args=(n,), daemon=True)
        for n in range(LOAD_THREADS if load else 0)
    ]
    for thread in threads:
        thread.start()
    staleness: list[float] = []
    requests: list[float] = []
    started = time.monotonic()
    probe = 0
    while time.monotonic() - started < seconds:
        probe += 1
        before = time.time()  # the collector stamps the hit between this and its 202
        accepted = _post(port, PROBE, f"/probe/{probe}", f"203.0.113.{probe % 250}")
        while True:
            answer, took = _realtime(port, key)
            requests.append(took)
            newest = answer.get("newest_event_at")
            if newest and datetime.fromisoformat(newest.replace("Z", "+00:00")).timestamp() >= before - 0.002:
                staleness.append(time.time() - accepted)
                break
            if time.time() - accepted > 120:
                staleness.append(float("inf"))
                break
            time.sleep(0.1)
        time.sleep(max(0.0, PROBE_EVERY - (time.time() - accepted)))
    stop.set()
    for thread in threads:
        thread.join(30)
    elapsed = time.monotonic() - started
    return {
        "staleness": staleness,
        "requests": requests,
        "load_rate": sent[0] / elapsed if load else 0.0,
    }


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run() -> list[tuple[str, str]]:
    tag_tools = importlib.import_module("tag_tools")
    seconds = float(os.environ.get("TOUCHLINE_BENCH_REALTIME_SECONDS", "40"))
    with tempfile.TemporaryDirectory() as tmp, tag_tools.running_stack(Path(tmp), PROBE) as stack:
        added = tag_tools.cli("sites", "add", LOADED, data_dir=stack.data_dir)
        assert added.returncode == 0, added.stderr
        made = tag_tools.cli(
            "api-keys",
            "create",
            PROBE,
            "--scope",
            "stats:read",
            "--rate-limit",
            "100000",
            data_dir=stack.data_dir,
        )
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        _phase(stack.port, key, 5, load=False)  # warm: the first invocations import the functions
        idle = _phase(stack.port, key, seconds, load=False)
        loaded = _phase(stack.port, key, seconds, load=True)
    idle_p50, loaded_p50 = statistics.median(idle["staleness"]), statistics.median(loaded["staleness"])
    idle_req, loaded_req = statistics.median(idle["requests"]), statistics.median(loaded["requests"])
    return [
        ("probes (idle / loaded)", f"{len(idle['staleness'])} / {len(loaded['staleness'])}"),
        ("background load (pageviews/s accepted, 4 threads)", f"{loaded['load_rate']:.0f}"),
        (
            "staleness idle: median / p95 / max (s)",
            f"{idle_p50:.2f} / {_p(idle['staleness'], 0.95):.2f} / {max(idle['staleness']):.2f}",
        ),
        (
            "staleness loaded: median / p95 / max (s)",
            f"{loaded_p50:.2f} / {_p(loaded['staleness'], 0.95):.2f} / {max(loaded['staleness']):.2f}",
        ),
        ("staleness loaded / idle (median)", f"{loaded_p50 / idle_p50:.2f}x"),
        ("realtime request idle / loaded: median (ms)", f"{idle_req * 1000:.0f} / {loaded_req * 1000:.0f}"),
    ]


if __name__ == "__main__":
    for label, figure in run():
        print(f"  {label:<60} {figure}")
