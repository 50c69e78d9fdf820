"""What settling skew-corrected times costs the loader (`touchline.load.clock`), in one run.

Batches of tracking-API events (messages of 100, as `/v1/batch` enqueues them) through
`LoadBatch`:

- Python CPU outside the warehouse (process time, a sink that stores nothing and whose read
  answers nothing): the baseline is the loader with the settling step removed, on batches
  without a corrected row; then the shipped loader on the same batches (the step's check: one
  `any` over a column), and on batches whose every row was corrected.
- End to end into the embedded engine (`ClickHouseRowSink`, wall time): the same baseline, the
  shipped loader without corrected rows, and with every row corrected, first copies (the lookup
  finds nothing, the records are inserted first) and second copies (the lookup finds them all).

Figures are ratios to the baseline of the same run: the machine is shared.

    .venv/bin/python -m bench.bench_loader_clock [events-per-batch]
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EVENTS = 2_000
PER_MESSAGE = 100
RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class _Keys:
    def lookup(self, key: str) -> Any:
        from touchline.config.write_keys import WriteKey

        return WriteKey("kid", "bench.example", "bench.example", "", False)


def _bodies(count: int, tag: str, stale: bool, received: datetime = RECEIVED) -> list[str]:
    """SQS bodies of `count` track calls; `stale`: the sender's clock 3 days behind."""
    from touchline.enrichment import FullEnricher
    from touchline.ingest.queue import ListQueue
    from touchline.tracking.api import ApiRequest, TrackingApi
    from touchline.tracking.convert import MessageConverter
    from touchline.tracking.enrich import ContextEnricher
    from touchline.tracking.keys import WriteKeyResolver

    queue = ListQueue()
    api = TrackingApi(
        WriteKeyResolver(_Keys(), ttl_seconds=60, negative_ttl_seconds=0),
        queue,
        MessageConverter(ContextEnricher(FullEnricher())),
        clock=lambda: received,
    )
    sent = RECEIVED - (timedelta(days=3) if stale else timedelta(seconds=1))
    auth = {"authorization": "Basic " + base64.b64encode(b"tlwk_bench:").decode()}
    for start in range(0, count, PER_MESSAGE):
        batch = [
            {
                "type": "track",
                "event": "Signed Up",
                "anonymousId": f"{tag}-v{i % 300}",
                "messageId": f"{tag}-m{i}",
                "timestamp": (sent - timedelta(seconds=i % 50)).isoformat(),
                "properties": {"plan": "pro", "n": i},
            }
            for i in range(start, min(start + PER_MESSAGE, count))
        ]
        body = json.dumps({"batch": batch, "sentAt": sent.isoformat()}).encode()
        api.handle(ApiRequest("batch", body, auth))
    return list(queue.bodies)


class NullSink:
    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        pass

    def insert_columns(self, table: str, names: Any, columns: Any, dedup_token: str) -> None:
        pass

    def select(self, query: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]:
        return []


def _load(bodies: list[str], sink: Any, settle: bool) -> None:
    from touchline.load.batch import LoadBatch

    batch = LoadBatch(sink)
    if not settle:
        batch._settle_clocks = lambda *args: None  # type: ignore[method-assign]
    for i, body in enumerate(bodies):
        batch.add(body, str(i))
    assert not batch.flush().failed_messages


def _best(fn: Callable[[], object], clock: Callable[[], float], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        started = clock()
        fn()
        best = min(best, clock() - started)
    return best


def run(events: int = EVENTS) -> list[tuple[str, str]]:
    from touchline.load.clickhouse_sink import ClickHouseRowSink
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    synced, stale = _bodies(events, "synced", False), _bodies(events, "stale", True)
    per_event = 1e6 / events
    cpu = time.process_time
    base = _best(lambda: _load(synced, NullSink(), False), cpu) * per_event
    none = _best(lambda: _load(synced, NullSink(), True), cpu) * per_event
    every = _best(lambda: _load(stale, NullSink(), True), cpu) * per_event
    rows = [
        (
            f"loader CPU/event outside ClickHouse, batches of {events}, baseline (no settling)",
            f"{base:.2f} µs",
        ),
        ("  shipped, no corrected row", f"{none:.2f} µs ({none / base:.2f}x)"),
        ("  shipped, every row corrected", f"{every:.2f} µs ({every / base:.2f}x)"),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-clock-", ignore_cleanup_errors=True) as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client)
        sink = ClickHouseRowSink(client)
        wall = time.perf_counter
        runs = 5
        # Each run loads other events (new ids), so every insert is a real one, not a dedup.
        fresh = {
            name: [_bodies(events, f"{name}{r}", stale=name.startswith("stale")) for r in range(runs)]
            for name in ("base", "synced", "stale")
        }
        again = [_bodies(events, f"stale{r}", True, RECEIVED + timedelta(minutes=7)) for r in range(runs)]

        def timed_each(batches: list[list[str]], settle: bool) -> float:
            best = float("inf")
            for bodies in batches:
                started = wall()
                _load(bodies, sink, settle)
                best = min(best, wall() - started)
            return best * per_event

        _load(_bodies(events, "warm", True), sink, True)  # first inserts, type lookups
        end_base = timed_each(fresh["base"], False)
        end_none = timed_each(fresh["synced"], True)
        end_first = timed_each(fresh["stale"], True)
        end_again = timed_each(again, True)
        [[stored]] = client.query(
            "SELECT count() FROM events FINAL WHERE startsWith(toString(props['plan']), 'pro')"
        ).result_rows
        rows += [
            (
                "loader end to end into the embedded engine, baseline (no settling)",
                f"{end_base:.1f} µs/event",
            ),
            ("  shipped, no corrected row", f"{end_none:.1f} µs ({end_none / end_base:.2f}x)"),
            ("  every row corrected, first copies", f"{end_first:.1f} µs ({end_first / end_base:.2f}x)"),
            (
                "  every row corrected, copies 7 min later",
                f"{end_again:.1f} µs ({end_again / end_base:.2f}x)",
            ),
            (
                "  events under FINAL (each message once)",
                f"{stored:,} (messages: {(3 * runs + 1) * events:,})",
            ),
        ]
    return rows


if __name__ == "__main__":
    for label, figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS):
        print(f"{label:80} {figure}")
