"""Where the end-to-end loader goal (≥ 150,000 events/s into the embedded engine, issue 20) meets
the engine: what one insert costs whatever its size, what the engine sustains on its own, and
what the loader reaches when two invocations run at once, as the template's event source
mapping runs them (`LoaderMaximumConcurrency`, at least 2).

- **Per insert, whatever its size**: one row, and a whole 4,993-event tag batch (the biggest a
  6 MB Lambda payload holds), as the loader's Native column insert (`raw_insert` of the bytes
  clickhouse-connect encodes for it) into `events`, into a twin without the data-version view,
  and into a `Null` twin (the engine's parse and planning only), taking turns, with the tables'
  merges stopped so none runs beside them. Median wall time of 15.
- **The engine alone**: that batch's Native bytes inserted back to back for a few seconds by one
  and by two threads (each its own client on the one engine), merges included: rows/s.
- **The loader end to end**: `LoadBatch` + `ClickHouseRowSink` into `events`, one invocation at a
  time and two at once (threads, each with its own client, taking batches from one queue),
  interleaved; every run checks that all the events were stored.

The loader's Python holds the GIL, so two invocations overlap one's Python only with the other's
engine work; the second figure is the most the engine could give the first.

    .venv/bin/python -m bench.bench_loader_ceiling [runs]
"""

from __future__ import annotations

import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.bench_loader_formats import EncodeOnly, events_types, native_block
from bench.common import ROOT

BATCH = 4_993
BATCHES = 10
SUSTAIN_SECONDS = 3.0


class _Capture(EncodeOnly):
    """A client that keeps the column insert the loader hands it (names, types, columns)."""

    def __init__(self, types: dict[str, str]) -> None:
        super().__init__(types)
        self.inserts: list[tuple[list[Any], dict[str, Any]]] = []

    def insert(self, table: str, data: Any, **options: Any) -> None:
        self.inserts.append(([list(column) for column in data], options))


def _native(columns: list[Any], options: dict[str, Any], rows: int) -> bytes:
    """The Native block clickhouse-connect sends for the first `rows` rows of the insert."""
    body = b"".join(native_block("events", [column[:rows] for column in columns], options))
    # build_insert prefixes the statement for an HTTP body; raw_insert wants the block only
    return body[body.index(b"\n") + 1 :] if body.startswith(b"INSERT") else body


def _load(batch: Any, message: list[str]) -> None:
    """One loader invocation's batch: every body of the message, then the flush."""
    for i, body in enumerate(message):
        batch.add(body, str(i))
    batch.flush()


def run(runs: int = 7) -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "tests"))
    import factories
    from touchline.envelope import pack
    from touchline.load.batch import LoadBatch
    from touchline.load.clickhouse_sink import INSERT_SETTINGS, ClickHouseRowSink
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    events = BATCH * BATCHES
    bodies = factories.envelope_bodies(events)
    messages = [pack(bodies[i : i + BATCH], 250_000) for i in range(0, events, BATCH)]
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-", ignore_cleanup_errors=True) as tmp:
        url = f"chdb://{Path(tmp) / 'clickhouse'}?database=bench"
        client = connect(url)
        migrate(client)
        # two handles on the one engine, as two loader invocations would each hold their own
        clients = [client, connect(url)]
        capture = _Capture(events_types(client))
        capturing: Any = capture  # stands in for a clickhouse-connect Client
        _load(LoadBatch(ClickHouseRowSink(capturing)), messages[0])
        ((columns, options),) = capture.inserts
        names = options["column_names"]
        block = {1: _native(columns, options, 1), BATCH: _native(columns, options, BATCH)}
        client.command("CREATE TABLE events_twin AS events")
        client.command("CREATE TABLE events_null AS events ENGINE = Null")

        def insert(which: Any, table: str, size: int, token: str) -> None:
            which.raw_insert(
                table,
                names,
                insert_block=block[size],
                fmt="Native",
                settings={**INSERT_SETTINGS, "insert_deduplication_token": token},
            )

        # The insert's own cost: no merge of the parts these inserts make runs beside them, and
        # the sizes and tables take turns, so a slow moment of the machine falls on all alike.
        tables = {
            "events_null": "a Null twin (parse and planning)",
            "events_twin": "an events twin without the data-version view",
            "events": "events",
        }
        for table in ("events_twin", "events"):
            client.command(f"SYSTEM STOP MERGES {table}")
        samples: dict[tuple[str, int], list[float]] = {(t, n): [] for t in tables for n in (1, BATCH)}
        for i in range(15):
            for table in tables:
                for size in (1, BATCH):
                    started = time.perf_counter()
                    insert(client, table, size, f"{table}-{size}-{i}")
                    samples[table, size].append(time.perf_counter() - started)
        for table in ("events_twin", "events"):
            client.command(f"SYSTEM START MERGES {table}")
        for table, label in tables.items():
            one, whole = (statistics.median(samples[table, n]) * 1e3 for n in (1, BATCH))
            rows.append(
                (
                    f"one Native insert into {label}: 1 row / {BATCH:,} rows",
                    f"{one:.2f} / {whole:.2f} ms ({one / whole:.0%} of the batch's time is the fixed part)",
                ),
            )

        def sustained(threads: int) -> float:
            client.command("TRUNCATE TABLE events")
            stop = threading.Event()
            done = [0] * threads

            def work(k: int) -> None:
                while not stop.is_set():
                    insert(clients[k], "events", BATCH, f"sustain-{threads}-{k}-{done[k]}")
                    done[k] += 1

            workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            time.sleep(SUSTAIN_SECONDS)
            stop.set()
            for worker in workers:
                worker.join()
            return sum(done) * BATCH / (time.perf_counter() - started)

        alone = {threads: sustained(threads) for threads in (1, 2)}
        rows.append(
            (
                f"the engine alone, {BATCH:,}-row Native inserts back to back for"
                f" {SUSTAIN_SECONDS:.0f} s, merges included: 1 / 2 at once",
                f"{alone[1]:,.0f} / {alone[2]:,.0f} rows/s ({alone[2] / alone[1]:.2f}x)",
            )
        )

        def load(invocations: int) -> float:
            pending: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
            for message in messages:
                pending.put(message)

            def invoke(k: int) -> None:
                sink = ClickHouseRowSink(clients[k])
                while True:
                    try:
                        chunk = pending.get_nowait()
                    except queue.Empty:
                        return
                    _load(LoadBatch(sink), chunk)

            client.command("TRUNCATE TABLE events")
            workers = [threading.Thread(target=invoke, args=(k,)) for k in range(invocations)]
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - started
            stored = client.query("SELECT count() FROM events").result_rows[0][0]
            if stored != events:
                raise AssertionError(f"{invocations} at once stored {stored} of {events} events")
            return elapsed

        times: dict[int, list[float]] = {1: [], 2: []}
        for attempt in range(runs):
            for invocations in (1, 2) if attempt % 2 == 0 else (2, 1):
                times[invocations].append(load(invocations))
        pair = statistics.median(two / one for one, two in zip(times[1], times[2], strict=True))
        for invocations, label in ((1, "one invocation at a time"), (2, "two invocations at once")):
            rate = [events / seconds for seconds in times[invocations]]
            rows.append(
                (
                    f"loader end to end into events, {BATCHES} batches of {BATCH:,}, {label}"
                    " (goal ≥ 150,000)",
                    f"median {statistics.median(rate):,.0f} events/s, best {max(rate):,.0f}",
                )
            )
        rows.append(("  two at once against one, median pair time", f"{pair:.3f}x"))
    rows.append(("load average during the run", f"{os.getloadavg()[0]:.1f}"))
    return rows


if __name__ == "__main__":
    for label, figure in run(*(int(a) for a in sys.argv[1:2])):
        print(f"{label:<100} {figure}")
