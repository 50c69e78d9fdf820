"""Sync figures: a Klaviyo-shaped backfill (Placed Order events with 3 line items each) from the
fake Klaviyo API into the embedded ClickHouse, through the real run (`run_sync`: HTTP client,
transform, Row validation, batched inserts, checkpoints in moto's DynamoDB).

Each measurement runs in a child process of its own (one embedded ClickHouse per process, and a
clean peak RSS), with the fake API in a grandchild so its data does not count. Memory must stay
flat as the backfill grows: the peak RSS growth of a 100,000-order backfill against a 25,000-order
one (VmHWM after resetting it, less the RSS at the start: bench/common.py says why not
ru_maxrss). Baselines, measured in the same run: fetching and parsing the same pages without storing
anything (the ceiling the network and JSON allow), and the same run holding every row until one
final insert (what streaming in batches saves).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, peak_rss_mb, reset_peak_rss

SMALL, LARGE = 25_000, 100_000
LINES = 3
BATCH_ROWS = 20_000  # the SyncFunction default (TOUCHLINE_SYNC_BATCH_ROWS)
_FAKE = """
import sys, time
sys.path.insert(0, {tests!r})
from datetime import UTC, datetime
from fakes.klaviyo import FakeKlaviyo, add_orders
fake = FakeKlaviyo(api_key="pk_bench")
fake.add_metric("PLACED", "Placed Order", "shopify")
start = datetime(2025, 1, 1, tzinfo=UTC)
add_orders(fake, int(sys.argv[1]), start=start, lines_per_order={lines}, profiles=5000)
with fake.serve() as url:
    print(url, flush=True)
    sys.stdin.read()
"""


def _start_fake(orders: int) -> tuple[subprocess.Popen[str], str]:
    code = _FAKE.format(tests=str(ROOT / "tests"), lines=LINES)
    fake = subprocess.Popen(
        [sys.executable, "-c", code, str(orders)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert fake.stdout is not None
    url = fake.stdout.readline().strip()
    if not url.startswith("http://"):
        raise RuntimeError(f"the fake Klaviyo did not start (exit {fake.wait()})")
    return fake, url


class _Discard:
    """A sink that drops rows: the sync's own memory, without the embedded ClickHouse's."""

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        pass


def measure(orders: int, mode: str) -> dict[str, Any]:
    """In a child process: one backfill (`sync`; `hold`: one insert at the end; `discard`: rows
    dropped instead of inserted), or `fetch` only."""
    fake, url = _start_fake(orders)
    try:
        if mode == "fetch":
            return _fetch_only(url)
        return _backfill(url, 10**9 if mode == "hold" else BATCH_ROWS, discard=mode == "discard")
    finally:
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(30)


def _fetch_only(url: str) -> dict[str, Any]:
    from touchline.syncs.http import HttpClient
    from touchline.syncs.providers.klaviyo.api import KlaviyoApi, KlaviyoCredentials, headers

    api = KlaviyoApi(HttpClient("klaviyo", url + "/", headers(KlaviyoCredentials(api_key="pk_bench"))))
    params = {
        "filter": 'equals(metric_id,"PLACED")',
        "sort": "datetime",
        "page[size]": 1000,
        "include": "profile",
    }
    before = reset_peak_rss()
    started = time.perf_counter()
    records = sum(len(page.get("data") or []) for page in api.pages("/api/events/", params))
    return {
        "seconds": time.perf_counter() - started,
        "records": records,
        "rows": 0,
        "growth_mb": peak_rss_mb() - before,
    }


def _backfill(url: str, batch_rows: int, discard: bool = False) -> dict[str, Any]:
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    import boto3
    from moto import mock_aws

    from touchline.config.sync_integrations import SyncIntegrationStore
    from touchline.config.sync_state import SyncStateStore
    from touchline.load.clickhouse_sink import ClickHouseRowSink
    from touchline.syncs.service import SyncEnvironment, run_sync
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        client = connect(f"chdb://{Path(tmp) / 'ch'}?database=bench")
        migrate(client)
        dynamodb, secrets = boto3.client("dynamodb"), boto3.client("secretsmanager")
        dynamodb.create_table(
            TableName="config",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        integrations = SyncIntegrationStore(dynamodb, "config")
        integrations.add("site1", "klaviyo", {"api_key": "pk_bench"}, secrets, api_base_url=url)
        env = SyncEnvironment(
            integrations,
            SyncStateStore(dynamodb, "config"),
            lambda name: str(secrets.get_secret_value(SecretId=name)["SecretString"]),
            _Discard() if discard else ClickHouseRowSink(client),
            batch_rows=batch_rows,
        )
        before = reset_peak_rss()
        started = time.perf_counter()
        report = run_sync(env, "site1", "klaviyo")
        seconds = time.perf_counter() - started
        assert report.complete, report.summary()
        stored = client.query("SELECT (SELECT count() FROM orders) + (SELECT count() FROM order_line_items)")
        rows = sum(p.rows for p in report.streams.values()) if discard else int(stored.result_rows[0][0])
        return {
            "seconds": seconds,
            "records": report.streams["placed_order:PLACED"].records,
            "rows": rows,
            "growth_mb": peak_rss_mb() - before,
        }


def _child(orders: int, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_syncs", str(orders), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("TOUCHLINE_", "AWS_"))},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run() -> list[tuple[str, str]]:
    small, large = _child(SMALL, "sync"), _child(LARGE, "sync")
    small_own, large_own = _child(SMALL, "discard"), _child(LARGE, "discard")
    fetch, hold = _child(LARGE, "fetch"), _child(LARGE, "hold")
    assert large["rows"] == LARGE * (1 + LINES), large
    rate = large["rows"] / large["seconds"]
    fetch_rate = fetch["records"] * (1 + LINES) / fetch["seconds"]
    rows = f"{LARGE:,} orders + {LARGE * LINES:,} line items"
    return [
        (f"klaviyo backfill rows/s into embedded ClickHouse ({rows})", f"{rate:,.0f}"),
        (f"klaviyo backfill orders/s ({LARGE:,} orders)", f"{large['records'] / large['seconds']:,.0f}"),
        ("fetch + JSON parse only, rows/s equivalent (baseline)", f"{fetch_rate:,.0f}"),
        ("backfill throughput / fetch-only ceiling", f"{rate / fetch_rate:.2f}x"),
        (
            f"sync's own peak RSS growth (rows discarded), {SMALL:,} orders",
            f"{small_own['growth_mb']:.0f} MB",
        ),
        (
            f"sync's own peak RSS growth (rows discarded), {LARGE:,} orders",
            f"{large_own['growth_mb']:.0f} MB",
        ),
        (
            "sync's own memory, 4x the data (flat = ~1x)",
            f"{large_own['growth_mb'] / small_own['growth_mb']:.2f}x",
        ),
        (f"with the embedded ClickHouse, peak RSS growth, {SMALL:,} orders", f"{small['growth_mb']:.0f} MB"),
        (f"with the embedded ClickHouse, peak RSS growth, {LARGE:,} orders", f"{large['growth_mb']:.0f} MB"),
        (
            f"holding all rows for one insert, peak RSS growth, {LARGE:,} orders (baseline)",
            f"{hold['growth_mb']:.0f} MB",
        ),
        (
            "streaming in 20,000-row batches / holding all rows",
            f"{large['growth_mb'] / hold['growth_mb']:.2f}x",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(measure(int(sys.argv[1]), sys.argv[2])))
    else:
        for label, figure in run():
            print(f"  {label:<80} {figure}")
