"""The loader at the limit (issue 20): its Python CPU per event, events/s end to end into the
embedded engine, and the engine's own ceiling per insert format, all in one run.

- Loader CPU outside the warehouse call (process time, a sink that stores nothing): the loader
  before packing and the compiled schema (one envelope per message, pydantic) is the baseline;
  then packed messages with pydantic only, and packed with the compiled schema (as shipped).
- End to end: `LoadBatch` + `ClickHouseRowSink` into `events`, batches of 10,000 events.
- The engine per format: the same 10,000 events rows as ClickHouse writes them in JSONEachRow,
  RowBinary, Native, Arrow and Parquet (`SELECT … FORMAT f`), inserted back (`raw_insert`) into
  an `events` twin of engine `Null` (parse only: the ceiling) and into a MergeTree twin (parse and
  write), plus the loader's own sparse JSONEachRow (defaults left out), and the Python cost of
  building each client-side format from validated rows (clickhouse-connect's column-oriented
  Native insert, pyarrow).

    .venv/bin/python -m bench.bench_loader_formats [events]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import ROOT

BATCH = 10_000
FORMATS = ("JSONEachRow", "RowBinary", "Native", "Arrow", "Parquet")


def _cpu(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def _wall(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


class NullSink:
    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        pass


def run(events: int = 50_000) -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "tests"))
    import factories
    from touchline.envelope import canonical_row, pack
    from touchline.load import batch as batch_module
    from touchline.load.batch import LoadBatch
    from touchline.load.clickhouse_sink import INSERT_SETTINGS, ClickHouseRowSink
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    bodies = factories.envelope_bodies(events)
    batches = [bodies[i : i + BATCH] for i in range(0, events, BATCH)]
    packed = [pack(chunk, 250_000) for chunk in batches]
    compiled = dict(batch_module._FAST)

    def load(messages: list[list[str]], sink: Any) -> None:
        for chunk in messages:
            batch = LoadBatch(sink)
            for i, body in enumerate(chunk):
                batch.add(body, str(i))
            batch.flush()

    def without_compiled(fn: Callable[[], object]) -> Callable[[], object]:
        def run_it() -> object:
            batch_module._FAST.clear()
            try:
                return fn()
            finally:
                batch_module._FAST.update(compiled)

        return run_it

    per_event = 1e6 / events
    before = _cpu(without_compiled(lambda: load(batches, NullSink()))) * per_event
    packed_only = _cpu(without_compiled(lambda: load(packed, NullSink()))) * per_event
    after = _cpu(lambda: load(packed, NullSink())) * per_event
    rows: list[tuple[str, str]] = [
        ("loader CPU/event outside ClickHouse, before (1 envelope/message, pydantic)", f"{before:.2f} µs"),
        ("  packed messages, pydantic only", f"{packed_only:.2f} µs ({packed_only / before:.2f}x)"),
        ("  packed + compiled schema, as shipped (goal <= 3 µs)", f"{after:.2f} µs ({after / before:.2f}x)"),
    ]

    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client)
        client.command("CREATE TABLE events_null AS events ENGINE = Null")
        client.command("CREATE TABLE events_copy AS events")
        sink = ClickHouseRowSink(client)

        def end_to_end(messages: list[list[str]], disable: bool) -> float:
            def go() -> None:
                client.command("TRUNCATE TABLE events")
                load(messages, sink)

            return _wall(without_compiled(go) if disable else go, runs=2)

        e2e_before = events / end_to_end(batches, True)
        e2e_after = events / end_to_end(packed, False)
        assert client.query("SELECT count() FROM events").result_rows[0][0] == events
        rows += [
            ("end to end events/s into events (MergeTree), before", f"{e2e_before:,.0f}"),
            (
                "end to end events/s, as shipped (goal >= 150,000)",
                f"{e2e_after:,.0f} ({e2e_after / e2e_before:.2f}x)",
            ),
        ]

        settings = {k: v for k, v in INSERT_SETTINGS.items() if k != "insert_distributed_sync"}
        sample = f"SELECT * FROM events ORDER BY event_id LIMIT {BATCH}"
        blocks = {fmt: client.raw_query(sample, fmt=fmt) for fmt in FORMATS}
        sparse = "\n".join(canonical_row(b, "events") or "" for b in bodies[:BATCH]).encode()
        blocks = {"JSONEachRow (loader, sparse)": sparse, **blocks}
        ceiling: dict[str, float] = {}
        for label, block in blocks.items():
            fmt = label.split(" ")[0]

            def insert(table: str, block: bytes = block, fmt: str = fmt) -> None:
                client.raw_insert(table, insert_block=block, fmt=fmt, settings=settings)

            null_s = _wall(lambda: insert("events_null"))
            tree_s = _wall(lambda: insert("events_copy"), runs=2)
            ceiling[label] = BATCH / null_s
            rows.append(
                (
                    f"engine {label}: {len(block) / BATCH:.0f} B/row; events/s into Null | MergeTree",
                    f"{BATCH / null_s:,.0f} | {BATCH / tree_s:,.0f}",
                )
            )
        base = ceiling["JSONEachRow (loader, sparse)"]
        rows.append(
            (
                "engine ceiling into Null, ratio to the loader's JSONEachRow",
                ", ".join(
                    f"{k.split(' ')[0]} {v / base:.2f}x" for k, v in ceiling.items() if "loader" not in k
                ),
            )
        )

        # What a client-side binary format costs Python: rows as values, then each encoder.
        from touchline.ingest.rows import EVENT_COLUMNS
        from touchline.load.kinds import envelope_adapter

        adapter = envelope_adapter()
        values = [adapter.validate_json(b).row for b in bodies[:BATCH]]
        columns = [[getattr(v, c) for v in values] for c in EVENT_COLUMNS]
        native_s = _cpu(
            lambda: client.insert(
                "events_null", columns, column_names=list(EVENT_COLUMNS), column_oriented=True
            ),
            runs=2,
        )
        rows.append(
            (
                "clickhouse-connect column-oriented Native insert into Null, CPU/event (values ready)",
                f"{native_s / BATCH * 1e6:.2f} µs",
            )
        )
        try:
            import pyarrow as pa  # type: ignore[import-untyped]

            arrow_s = _cpu(lambda: pa.Table.from_pylist([v.model_dump() for v in values]), runs=2)
            rows.append(("pyarrow table from validated rows, CPU/event", f"{arrow_s / BATCH * 1e6:.2f} µs"))
        except ImportError:
            pass
    return rows


if __name__ == "__main__":
    for label, figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000):
        print(f"{label:<88} {figure}")
