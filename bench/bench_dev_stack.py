"""The local stack's throughput: hits/s accepted by `touchline dev` with 8 concurrent clients.

Starts `touchline dev` on a fresh data dir and a free port, registers a site, then 8 client
threads (one kept-alive connection each, like browsers) post pageviews for a fixed time. Prints
the hits answered 202 per second, the rows per second that reached ClickHouse (every 202 must be
there: the figure is only printed once they all are), and, as the same run's baseline, the rate
of a trivial route of the same gateway (`GET /_dev/health`), which is the ceiling the HTTP
server itself sets.

    .venv/bin/python -m bench.bench_dev_stack [seconds] [baseline checkout]

With a second argument (another checkout of the repository, e.g. `/work/main` before a change),
the same load first runs against that checkout's `touchline` and `touchline_dev` packages (put
first on PYTHONPATH; the template and functions stay this checkout's, and nothing is written
there), so a before/after pair comes from one run on one machine.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import ROOT

CLIENTS = 8
DOMAIN = "bench.example.com"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
TOUCHLINE = Path(sys.executable).parent / "touchline"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(code: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHLINE_", "AWS_"))}
    if code is not None:
        env["PYTHONPATH"] = f"{code / 'dev'}:{code / 'layers' / 'touchline'}"
    return env


class Stack:
    def __init__(self, data_dir: Path, code: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.log = open(data_dir.parent / "dev.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(TOUCHLINE), "dev", "--port", str(self.port), "--data-dir", str(data_dir)],
            cwd=ROOT,
            env=_env(code),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"touchline dev exited with {self.proc.returncode}")
            try:
                status, _ = self.request("GET", "/_dev/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("touchline dev not ready")

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers={"content-type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def count(self) -> int:
        query = json.dumps({"query": "SELECT count() FROM events FINAL"}).encode()
        status, body = self.request("POST", "/_dev/sql", query)
        assert status == 200, body
        return int(json.loads(body)["rows"][0][0])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _load(port: int, seconds: float, method: str, path: str, body: bytes | None) -> tuple[int, int]:
    """(answers 202/200, others) from CLIENTS threads on kept-alive connections."""
    ok = [0] * CLIENTS
    bad = [0] * CLIENTS
    deadline = time.monotonic() + seconds
    headers = {"content-type": "text/plain", "user-agent": USER_AGENT}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status in (200, 202):
                    ok[index] += 1
                else:
                    bad[index] += 1
            except OSError:
                bad[index] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(ok), sum(bad)


def measure(seconds: float, code: Path | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-dev-") as tmp:
        data_dir = Path(tmp) / "data"
        added = subprocess.run(
            [str(TOUCHLINE), "sites", "add", DOMAIN, "--data-dir", str(data_dir)],
            cwd=ROOT,
            env=_env(code),
            capture_output=True,
            text=True,
            check=True,
        )
        assert added.stdout.strip()
        stack = Stack(data_dir, code)
        try:
            stack.wait_ready()
            hit = json.dumps({"name": "pageview", "url": f"https://{DOMAIN}/p", "domain": DOMAIN}).encode()
            _load(stack.port, 2.0, "POST", "/api/event", hit)  # warm every container
            health, _ = _load(stack.port, seconds / 3, "GET", "/_dev/health", None)
            before = stack.count()
            started = time.perf_counter()
            accepted, refused = _load(stack.port, seconds, "POST", "/api/event", hit)
            sent_s = time.perf_counter() - started
            while (stored := stack.count() - before) < accepted:
                if time.perf_counter() - started > sent_s + 300:
                    raise RuntimeError(f"only {stored} of {accepted} accepted hits reached ClickHouse")
                time.sleep(0.2)
            stored_s = time.perf_counter() - started
        finally:
            stack.stop()
    return {
        "hits_s": accepted / sent_s,
        "refused": refused,
        "stored_s": accepted / stored_s,
        "health_s": health / (seconds / 3),
    }


def run(seconds: float = 15.0, baseline: Path | None = None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    before = measure(seconds, baseline) if baseline is not None else None
    after = measure(seconds)
    for label, figures in (("before", before), ("this checkout", after)):
        if figures is None:
            continue
        rows += [
            (
                f"{label}: hits accepted (202)/s, {CLIENTS} clients, {seconds:.0f} s (goal >= 1,000)",
                f"{figures['hits_s']:,.0f}",
            ),
            (f"{label}: answers other than 202", f"{figures['refused']:,.0f}"),
            (f"{label}: rows in ClickHouse/s, first hit to last row", f"{figures['stored_s']:,.0f}"),
            (f"{label}: baseline GET /_dev/health/s, same gateway", f"{figures['health_s']:,.0f}"),
            (f"{label}: hits/s as a share of that ceiling", f"{figures['hits_s'] / figures['health_s']:.2f}"),
        ]
    if before is not None:
        rows.append(("hits/s, this checkout / before", f"{after['hits_s'] / before['hits_s']:.2f}x"))
    return rows


if __name__ == "__main__":
    arguments = sys.argv[1:]
    baseline_root = Path(arguments[1]) if len(arguments) > 1 else None
    for label, figure in run(float(arguments[0]) if arguments else 15.0, baseline_root):
        print(f"{label:<80} {figure}")
