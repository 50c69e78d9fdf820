"""Syncs as a user runs them: the CLI (with and without `touchline dev`) against a fake Klaviyo.

* `touchline integrations add klaviyo` + `touchline sync run` in a process of their own, killed
  with SIGKILL half-way, then run again: nothing lost, nothing counted twice;
* `touchline dev`: the scheduled fan-out with no integrations is quick and logs nothing; with one
  it queues a run that SyncQueue delivers to SyncFunction; `touchline sync run` goes through the
  stack (which holds the embedded ClickHouse) and converges after new orders.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fakes.klaviyo import FakeKlaviyo, add_orders

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOUCHLINE = Path(sys.executable).parent / "touchline"
KEY = "pk_e2e"
START = datetime(2026, 2, 1, tzinfo=UTC)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHLINE_", "AWS_"))}


def _cli(*args: str, data_dir: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOUCHLINE), *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _totals(fake: FakeKlaviyo) -> tuple[int, Decimal]:
    events = fake.events("PLACED")
    return len(events), sum((Decimal(repr(e.properties["$value"])) for e in events), Decimal(0))


def _stored(data_dir: Path) -> tuple[int, Decimal, int]:
    out = _ok(
        _cli(
            "sql",
            "SELECT count(), sum(amount), count() - uniqExact(order_id) FROM orders FINAL",
            data_dir=data_dir,
        )
    )
    count, amount, duplicates = out.split("\t")
    return int(count), Decimal(amount), int(duplicates)


@pytest.fixture
def klaviyo() -> Iterator[FakeKlaviyo]:
    fake = FakeKlaviyo(api_key=KEY)
    fake.add_metric("PLACED", "Placed Order", "shopify")
    add_orders(fake, 6000, start=START, step=timedelta(minutes=2))
    with fake.serve():
        yield fake
    # Every request the sync sent is one the provider's published API document accepts.
    assert fake.refusals == [], fake.refusals


def _connect(data_dir: Path, fake: FakeKlaviyo) -> str:
    site = _ok(_cli("sites", "add", "shop.example.com", data_dir=data_dir))
    _ok(
        _cli(
            "integrations",
            "add",
            "klaviyo",
            site,
            "--api-key",
            KEY,
            "--api-base-url",
            fake.base_url,
            data_dir=data_dir,
        )
    )
    return site


def test_sync_killed_half_way_then_rerun_loses_and_duplicates_nothing(
    tmp_path: Path, klaviyo: FakeKlaviyo
) -> None:
    data_dir = tmp_path / "data"
    add_orders(klaviyo, 6000, start=START + timedelta(days=10), id_offset=6_000_000_000)
    total = len(klaviyo.events("PLACED"))
    site = _connect(data_dir, klaviyo)
    klaviyo.between_calls = lambda call: time.sleep(0.3)  # slow pages: time to kill the run mid-way
    run = subprocess.Popen(
        [str(TOUCHLINE), "sync", "run", "klaviyo", "--site", site, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    # Pages of 1000 orders (4000 rows); the writer flushes every 20,000 rows: after page 5, so by the
    # time page 7 is served, the first five pages are in ClickHouse and the run is far from done.
    while len(klaviyo.served_paths("/api/events")) < 7:
        assert run.poll() is None and time.monotonic() < deadline, run.stderr and run.stderr.read()
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(30)
    partial = _stored(data_dir)
    assert 0 < partial[0] < total and partial[2] == 0
    klaviyo.between_calls = None
    result = _cli("sync", "run", "klaviyo", "--site", site, data_dir=data_dir)
    _ok(result)
    assert "placed_order:PLACED: done" in result.stderr
    count, amount, duplicates = _stored(data_dir)
    assert (count, amount) == _totals(klaviyo) and duplicates == 0
    status = json.loads(_ok(_cli("sync", "status", "--format", "json", data_dir=data_dir)))
    assert status[0]["status"] == "ok" and status[0]["streams"]["placed_order:PLACED"]["watermark"]


class Stack:
    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = logs
        with open(logs, "w") as out:
            self.proc = subprocess.Popen(
                [str(TOUCHLINE), "dev", "--port", str(self.port), "--data-dir", str(data_dir)],
                cwd=ROOT,
                env=_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(self.base + "/_dev/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(self.log.read_text())

    def invoke(self, event: dict[str, Any]) -> tuple[Any, float]:
        body = json.dumps({"function": "SyncFunction", "event": event}).encode()
        started = time.perf_counter()
        with urllib.request.urlopen(
            urllib.request.Request(
                self.base + "/_dev/invoke", data=body, headers={"Content-Type": "application/json"}
            ),
            timeout=60,
        ) as r:
            return json.loads(r.read())["result"], time.perf_counter() - started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def test_scheduled_and_cli_syncs_through_the_local_stack(tmp_path: Path, klaviyo: FakeKlaviyo) -> None:
    data_dir = tmp_path / "data"
    stack = Stack(data_dir, tmp_path / "dev.log")
    try:
        # The 15-minute schedule with nothing connected: nothing queued, and not a line in the log.
        before = stack.log.read_text()
        result, _ = stack.invoke({"action": "fan_out"})
        assert result == {"queued": 0}
        assert '"service":"sync"' not in stack.log.read_text()[len(before) :]

        site = _connect(data_dir, klaviyo)
        result, _ = stack.invoke({"action": "fan_out"})
        assert result == {"queued": 1}
        deadline = time.monotonic() + 60
        while _stored(data_dir)[0] < 6000:  # SyncQueue → SyncFunction, run by the stack's poller
            assert time.monotonic() < deadline, stack.log.read_text()[-3000:]
            time.sleep(0.5)
        assert _stored(data_dir)[:2] == _totals(klaviyo)

        add_orders(klaviyo, 500, start=START + timedelta(days=30), id_offset=6_000_000_000)
        result_cli = _cli("sync", "run", "klaviyo", "--site", site, data_dir=data_dir)
        _ok(result_cli)
        count, amount, duplicates = _stored(data_dir)
        assert (count, amount) == _totals(klaviyo) and duplicates == 0
    finally:
        stack.stop()
