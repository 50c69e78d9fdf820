"""`touchline dev` as a developer runs it: a subprocess on template.yaml, driven over HTTP and the CLI.

What must hold: every hit answered 202 ends up in ClickHouse, while the stack runs, after a
SIGTERM that arrives right behind a burst of hits, and after a SIGKILL there (the next start
re-sends what the queue journal held); a site registered while the stack runs is seen
at once and survives a restart; a taken port and a locked data dir fail fast with clear messages.
The test prints the startup time and the hit-to-row latency it measured.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOUCHLINE = Path(sys.executable).parent / "touchline"
DOMAIN = "shop.example.com"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
HIT = {"name": "pageview", "url": f"https://{DOMAIN}/p?utm_source=x", "domain": DOMAIN}


_needs_script = pytest.mark.skipif(not TOUCHLINE.exists(), reason="no touchline script next to python")


def _env() -> dict[str, str]:
    """The developer's environment: nothing pointing at real AWS or another warehouse."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHLINE_", "AWS_"))}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOUCHLINE), *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _count(data_dir: Path) -> int:
    result = _cli("sql", "SELECT count() FROM events FINAL", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


class DevProcess:
    """One `touchline dev` subprocess; output goes to files so a full pipe never blocks it."""

    def __init__(self, data_dir: Path, port: int, logs: Path) -> None:
        self.data_dir, self.port = data_dir, port
        self.base = f"http://127.0.0.1:{port}"
        self.out, self.err = logs.with_suffix(".out"), logs.with_suffix(".err")
        self.started = time.perf_counter()
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [str(TOUCHLINE), "dev", "--port", str(port), "--data-dir", str(data_dir)],
                cwd=ROOT,
                env=_env(),
                stdout=out,
                stderr=err,
            )

    def logs(self) -> str:
        return f"--- stdout\n{self.out.read_text()[-4000:]}\n--- stderr\n{self.err.read_text()[-4000:]}"

    def wait_ready(self, timeout: float = 90) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"touchline dev exited with {self.proc.returncode}\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.base + "/_dev/health", timeout=2) as response:
                    if json.loads(response.read()).get("status") == "ok":
                        return time.perf_counter() - self.started
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"touchline dev not ready after {timeout} s\n{self.logs()}")

    def sql_count(self) -> int:
        request = urllib.request.Request(
            self.base + "/_dev/sql",
            # A bound parameter through the dev endpoint: a quote in it is a value, not SQL.
            data=json.dumps(
                {
                    "query": "SELECT count() FROM events FINAL WHERE name != {skip:String}",
                    "parameters": {"skip": "no'such event"},
                }
            ).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(json.loads(response.read())["rows"][0][0])

    def terminate(self, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"touchline dev did not stop after SIGTERM\n{self.logs()}") from None


@pytest.fixture
def processes() -> Iterator[list[DevProcess]]:
    started: list[DevProcess] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def _post(base: str, body: Any, user_agent: str = USER_AGENT) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        base + "/api/event",
        data=data,
        method="POST",
        headers={"content-type": "text/plain", "user-agent": user_agent},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _burst(base: str, count: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda _i: _post(base, HIT)[0], range(count)))


def _wait_for_count(dev: DevProcess, expected: int, timeout: float) -> float:
    started = time.perf_counter()
    seen = -1
    while time.perf_counter() - started < timeout:
        seen = dev.sql_count()
        if seen == expected:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise AssertionError(f"events: {seen} rows, expected {expected} after {timeout} s\n{dev.logs()}")


def _cross_site_posts_are_refused(dev: DevProcess, data_dir: Path) -> None:
    """Issue 13: what any web page can send (a `text/plain` POST with its Origin) runs nothing on
    `/_dev/*`, and moto's endpoint (local secrets, `/moto-api/reset`) refuses the page too."""
    forged = json.dumps({"query": "INSERT INTO events (site_id) VALUES ('forged')"}).encode()
    for path in ("/_dev/sql", "/_dev/invoke", "/_dev/snapshot"):
        request = urllib.request.Request(
            dev.base + path,
            data=forged,
            method="POST",
            headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403 and json.loads(refused.value.read())["error"] == "forbidden"
    moto = json.loads((data_dir / "stack.json").read_text())["moto_endpoint"]
    reset = urllib.request.Request(
        moto + "/moto-api/reset", data=b"", method="POST", headers={"Origin": "https://evil.example"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(reset, timeout=10)
    assert refused.value.code == 403
    # The stack's own dashboard still reaches moto's Cognito (its sign-in preflight), as a browser would.
    preflight = urllib.request.Request(
        moto + "/",
        method="OPTIONS",
        headers={
            "Origin": dev.base,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
    )
    with urllib.request.urlopen(preflight, timeout=10) as allowed:
        assert allowed.status == 200
        assert allowed.headers.get("access-control-allow-origin") in {dev.base, "*"}
    assert dev.sql_count() >= 1  # the warehouse answered the CLI's way and kept its rows


@_needs_script
def test_dev_stack_keeps_every_accepted_hit(tmp_path: Path, processes: list[DevProcess]) -> None:
    data_dir = tmp_path / "data"
    dev = DevProcess(data_dir, _free_port(), tmp_path / "first")
    processes.append(dev)
    startup = dev.wait_ready()

    added = _cli("sites", "add", DOMAIN, data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    site_id = added.stdout.strip()
    assert site_id

    # The collector caches a missing site briefly; the stack sets that cache to 1 s.
    deadline = time.monotonic() + 15
    while _post(dev.base, HIT)[0] != 202:
        assert time.monotonic() < deadline, dev.logs()
        time.sleep(0.2)
    accepted = 1

    statuses = _burst(dev.base, 300)
    assert statuses == [202] * 300, dev.logs()
    accepted += 300

    status, body = _post(dev.base, b"{not json")
    assert status == 400
    assert isinstance(json.loads(body), dict)
    status, body = _post(dev.base, {**HIT, "domain": "unknown.example", "url": "https://unknown.example/"})
    assert 400 <= status < 500
    assert isinstance(json.loads(body), dict)

    _wait_for_count(dev, accepted, timeout=30)
    assert _count(data_dir) == accepted  # the CLI goes through the running stack (chdb is single-process)
    _cross_site_posts_are_refused(dev, data_dir)

    # Hit-to-row latency: one hit, then poll until its row is visible.
    assert _post(dev.base, HIT)[0] == 202
    accepted += 1
    latency = _wait_for_count(dev, accepted, timeout=30)

    second = _cli("dev", "--port", str(_free_port()), data_dir=data_dir, timeout=60)
    assert second.returncode != 0
    assert f"is in use by another touchline dev (pid {dev.proc.pid})" in second.stderr

    # SIGTERM right behind a burst: the drain must deliver every 202 before the process exits.
    statuses = _burst(dev.base, 200)
    accepted += statuses.count(202)
    assert statuses.count(202) == 200
    stop_started = time.perf_counter()
    assert dev.terminate() == 0, dev.logs()
    stop_seconds = time.perf_counter() - stop_started
    assert not (data_dir / "stack.json").exists()
    assert _count(data_dir) == accepted, dev.logs()  # offline: the CLI opens the embedded ClickHouse

    restarted = DevProcess(data_dir, _free_port(), tmp_path / "second")
    processes.append(restarted)
    restarted.wait_ready()
    listed = _cli("sites", "list", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    assert f"{site_id}\t{DOMAIN}" in listed.stdout
    assert restarted.sql_count() == accepted
    assert restarted.terminate() == 0, restarted.logs()

    print(
        f"\ntouchline dev: ready in {startup:.2f} s (process start to healthy); "
        f"hit-to-row {latency * 1000:.0f} ms; SIGTERM to exit {stop_seconds:.2f} s; {accepted} hits"
    )


@_needs_script
def test_a_sigkill_loses_no_accepted_hit(tmp_path: Path, processes: list[DevProcess]) -> None:
    """SIGKILL right behind a burst: no drain, no save. Every 202 was journaled (queues.db) as it
    was queued, so the next start re-sends what the loader had not stored yet (issue 13)."""
    data_dir = tmp_path / "data"
    added = _cli("sites", "add", DOMAIN, data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    dev = DevProcess(data_dir, _free_port(), tmp_path / "killed")
    processes.append(dev)
    dev.wait_ready()
    statuses = _burst(dev.base, 200)
    assert statuses == [202] * 200, dev.logs()
    dev.proc.kill()
    dev.proc.wait()
    assert (data_dir / "queues.db").exists()

    after_kill = DevProcess(data_dir, _free_port(), tmp_path / "after-kill")
    processes.append(after_kill)
    after_kill.wait_ready()
    _wait_for_count(after_kill, 200, timeout=60)
    assert after_kill.terminate() == 0, after_kill.logs()
    assert _count(data_dir) == 200  # once each: re-sent messages deduplicate on their event ids


@_needs_script
def test_taken_port_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.perf_counter()
        result = _cli("dev", "--port", str(port), data_dir=tmp_path / "data", timeout=60)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.perf_counter() - started < 30


@_needs_script
def test_locked_data_dir_fails_fast_with_the_holder_pid(tmp_path: Path) -> None:
    from touchline_dev.devstack.lock import DataDirLock

    data_dir = tmp_path / "data"
    with DataDirLock(data_dir, role="dev"):
        result = _cli("dev", "--port", str(_free_port()), data_dir=data_dir, timeout=60)
    assert result.returncode != 0
    assert f"is in use by another touchline dev (pid {os.getpid()})" in result.stderr
    assert "Traceback" not in result.stderr
