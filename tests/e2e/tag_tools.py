"""What the tag's browser tests need on the machine: Debian's chromium, the npm tooling, a local
web server for the test pages, and one `touchline dev` stack. Installed on first use, so a fresh
CI machine runs the same tests as a developer's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "e2e" / "node"
TOUCHLINE = Path(sys.executable).parent / "touchline"
CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt when missing; a skip only where there is no apt."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip("no /usr/bin/chromium and no apt-get to install Debian's chromium")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update"], [apt, "install", "-y", "chromium"]):
        done = subprocess.run([*sudo, *command], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (
            f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    assert CHROMIUM.exists(), "apt installed chromium but /usr/bin/chromium is missing"
    return CHROMIUM


def ensure_node_modules() -> Path:
    """tests/e2e/node's packages (terser, @plausible-analytics/tracker), from its lock file."""
    if (NODE_DIR / "node_modules" / ".package-lock.json").exists():
        return NODE_DIR / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return NODE_DIR / "node_modules"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------ test pages


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class PageServer:
    """Serves registered pages on 127.0.0.1 for every host name the browser maps there."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.files: dict[str, Path] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                resource = server.resolve(path)
                if resource is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", resource.content_type)
                self.send_header("Content-Length", str(len(resource.body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in resource.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(resource.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def resolve(self, path: str) -> Resource | None:
        if path in self.resources:
            return self.resources[path]
        for prefix, directory in self.files.items():
            if path.startswith(prefix):
                target = (directory / path[len(prefix) :]).resolve()
                if target.is_file() and directory in target.parents:
                    return Resource(target.read_bytes(), "text/javascript; charset=utf-8")
        return None

    def add(self, path: str, html: str) -> None:
        self.resources[path] = Resource(html.encode())

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------ the local stack


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHLINE_", "AWS_"))}


def cli(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOUCHLINE), *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Stack:
    data_dir: Path
    port: int
    site_id: str = ""

    def sql(self, query: str) -> list[dict[str, Any]]:
        """Rows as the user sees them: `touchline sql --format json` against the running stack."""
        done = cli("sql", query, "--format", "json", data_dir=self.data_dir)
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def wait_for(
        self, query: str, ready: Callable[[list[dict[str, Any]]], bool], timeout: float = 30
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = self.sql(query)
            if ready(rows):
                return rows
            time.sleep(0.3)
        raise AssertionError(f"timed out after {timeout} s waiting on {query!r}; last rows: {rows}")

    def wait_drained(self, queue: str = "EventsQueue", timeout: float = 60) -> None:
        """Wait until every message sent to `queue` has been delivered and deleted (none visible,
        none in flight): only then has the loader seen every copy of a redelivered request. The
        stack holds its queues in its own process, so it is asked (moto's copy is always empty)."""
        deadline = time.monotonic() + timeout
        while True:
            url = f"http://127.0.0.1:{self.port}/_dev/queues"
            with urllib.request.urlopen(url, timeout=10) as response:
                depth = json.loads(response.read())["queues"][queue]
            if depth == {"visible": 0, "in_flight": 0}:
                return
            assert time.monotonic() < deadline, f"{queue} not drained after {timeout} s: {depth}"
            time.sleep(0.3)


@contextmanager
def running_stack(tmp: Path, domain: str | None) -> Iterator[Stack]:
    """`touchline dev` as a subprocess, with `domain` registered and accepting hits (None: no
    site yet; the caller registers its own, e.g. through the management API)."""
    stack = Stack(tmp / "data", free_port())
    out, err = tmp / "dev.out", tmp / "dev.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(
            [str(TOUCHLINE), "dev", "--port", str(stack.port), "--data-dir", str(stack.data_dir)],
            cwd=ROOT,
            env=_env(),
            stdout=stdout,
            stderr=stderr,
        )

    def logs() -> str:
        return f"--- stdout\n{out.read_text()[-3000:]}\n--- stderr\n{err.read_text()[-3000:]}"

    try:
        # A hang guard, not a speed check: a loaded 2-core machine can take over a minute.
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, f"touchline dev exited with {proc.returncode}\n{logs()}"
            assert time.monotonic() < deadline, f"touchline dev not ready\n{logs()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/_dev/health", timeout=2) as r:
                    if json.loads(r.read()).get("status") == "ok":
                        break
            except (OSError, ValueError):
                time.sleep(0.1)
        if domain is not None:
            added = cli("sites", "add", domain, data_dir=stack.data_dir)
            assert added.returncode == 0, added.stderr
            stack.site_id = added.stdout.strip()
            time.sleep(1.2)  # the stack caches "unknown site" answers for 1 s
        yield stack
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
