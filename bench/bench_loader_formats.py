"""The loader at the limit (issue 20): its Python CPU per event, events/s end to end into the
embedded engine, and the engine's own ceiling per insert format, all in one run.

- Loader CPU outside the warehouse call (process time, a sink that stores nothing): the loader
  before packing and the compiled schema (one envelope per message, pydantic) is the baseline;
  then packed messages with pydantic only, packed with the compiled schema into JSON rows (a
  sink without `insert_columns`: the loader before column inserts), and packed with the
  compiled schema into columns (as shipped). The column insert's own Python work (encoding the
  Native block) happens inside the warehouse call, so it is measured too: the whole call into a
  `Null` table (clickhouse-connect's encoding plus the engine's parse).
- End to end: `LoadBatch` + `ClickHouseRowSink` into `events`, batches of 10,000 events, with
  JSON rows (the sink without its column path) and as shipped.
- The engine per format: the same 10,000 events rows as ClickHouse writes them in JSONEachRow,
  RowBinary, Native, Arrow and Parquet (`SELECT … FORMAT f`), inserted back (`raw_insert`) into
  an `events` twin of engine `Null` (parse only: the ceiling) and into a MergeTree twin (parse and
  write), plus the loader's own sparse JSONEachRow (defaults left out), and the Python cost of
  building each client-side format from validated rows (clickhouse-connect's column-oriented
  Native insert, pyarrow).

    .venv/bin/python -m bench.bench_loader_formats [events]
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT, callgrind_collected

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


class NullJsonSink:
    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        pass


class NullSink(NullJsonSink):
    def insert_columns(self, table: str, names: Any, columns: Any, dedup_token: str) -> None:
        pass


def events_types(client: Any) -> dict[str, str]:
    """The `events` table's column types in the bench database, as the sink's type query reads them."""
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = 'bench' AND table = 'events'"
    ).result_rows
    return {str(name): str(kind) for name, kind in rows}


def native_block(table: str, data: Any, options: dict[str, Any]) -> Iterator[bytes]:
    """The chunks clickhouse-connect sends for a column insert (`options` as `Client.insert` gets
    them from the sink), statement prefix included, encoded exactly as it encodes them."""
    from clickhouse_connect.datatypes.registry import get_from_name
    from clickhouse_connect.driver.insert import InsertContext
    from clickhouse_connect.driver.transform import NativeTransform

    context = InsertContext(
        table,
        options["column_names"],
        [get_from_name(name) for name in options["column_type_names"]],
        data,
        column_oriented=True,
        settings=options["settings"],
    )
    return iter(NativeTransform.build_insert(context))


class EncodeOnly:
    """A client that encodes a column insert's Native block exactly as clickhouse-connect sends
    it, and sends nothing: the shipped sink's Python work without the engine's."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def query(self, sql: str, parameters: Any = None) -> Any:
        return type("Result", (), {"result_rows": list(self.types.items())})()

    def insert(self, table: str, data: Any, **options: Any) -> None:
        for _ in native_block(table, data, options):
            pass


EVENTS_TYPES: dict[str, str] = {}  # filled from the migrated table by `run`
CALLGRIND_EVENTS = 2_000


def _loader_pass(mode: str, count: int) -> None:
    """Under callgrind: load `count` events once uncounted, then once inside `functools.reduce`
    (the only code counted), through the sink of `mode`."""
    sys.path.insert(0, str(ROOT / "tests"))
    import factories
    from touchline.envelope import pack
    from touchline.load.batch import LoadBatch
    from touchline.load.clickhouse_sink import ClickHouseRowSink

    types = dict(line.split("\t") for line in os.environ["BENCH_EVENTS_TYPES"].split("\n"))
    messages = pack(factories.envelope_bodies(count), 250_000)
    sink: Any = {
        "json": NullJsonSink(),
        "columns": NullSink(),
        "encoded": ClickHouseRowSink(EncodeOnly(types)),  # type: ignore[arg-type]
    }[mode]

    def load(_: object, __: object) -> None:
        batch = LoadBatch(sink)
        for i, body in enumerate(messages):
            batch.add(body, str(i))
        batch.flush()

    load(None, None)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True, check=True)
    settle = time.monotonic() + 1.0  # callgrind acts on the command at its next check
    while time.monotonic() < settle:
        sum(range(1000))
    functools.reduce(load, [None], None)


def instructions_per_event(mode: str, count: int = CALLGRIND_EVENTS) -> float:
    types = "\n".join(f"{k}\t{v}" for k, v in EVENTS_TYPES.items())
    counted = callgrind_collected(
        "bench.bench_loader_formats", mode, str(count), env={"BENCH_EVENTS_TYPES": types}
    )
    return counted / count


class JsonOnly:
    """A sink's JSON path alone: the loader as it was before column inserts."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        self.inner.insert_rows(table, json_rows, dedup_token)


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
    prefixes = list(batch_module._FAST_PREFIXES)

    def load(messages: list[list[str]], sink: Any) -> None:
        for chunk in messages:
            batch = LoadBatch(sink)
            for i, body in enumerate(chunk):
                batch.add(body, str(i))
            batch.flush()

    def without_compiled(fn: Callable[[], object]) -> Callable[[], object]:
        def run_it() -> object:
            batch_module._FAST.clear()
            batch_module._FAST_PREFIXES.clear()
            try:
                return fn()
            finally:
                batch_module._FAST.update(compiled)
                batch_module._FAST_PREFIXES.extend(prefixes)

        return run_it

    per_event = 1e6 / events
    before = _cpu(without_compiled(lambda: load(batches, NullJsonSink()))) * per_event
    packed_only = _cpu(without_compiled(lambda: load(packed, NullJsonSink()))) * per_event
    json_rows = _cpu(lambda: load(packed, NullJsonSink())) * per_event
    after = _cpu(lambda: load(packed, NullSink())) * per_event
    rows: list[tuple[str, str]] = [
        ("loader CPU/event outside ClickHouse, before (1 envelope/message, pydantic)", f"{before:.2f} µs"),
        ("  packed messages, pydantic only", f"{packed_only:.2f} µs ({packed_only / before:.2f}x)"),
        ("  packed + compiled schema, JSON rows", f"{json_rows:.2f} µs ({json_rows / before:.2f}x)"),
        (
            "  packed + compiled schema, columns, outside the sink call",
            f"{after:.2f} µs ({after / before:.2f}x; {after / json_rows:.2f}x JSON rows)",
        ),
    ]

    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client)
        client.command("CREATE TABLE events_null AS events ENGINE = Null")
        client.command("CREATE TABLE events_copy AS events")
        EVENTS_TYPES.update(events_types(client))
        # All of the loader's Python: the column path with its Native block built, nothing sent.
        encode_only = ClickHouseRowSink(EncodeOnly(EVENTS_TYPES))  # type: ignore[arg-type]
        encoded = _cpu(lambda: load(packed, encode_only)) * per_event
        rows.append(
            (
                "  columns with clickhouse-connect's Native encoding: all the loader's Python (goal <= 3 µs)",
                f"{encoded:.2f} µs ({encoded / before:.2f}x; {encoded / json_rows:.2f}x JSON rows)",
            )
        )
        if os.environ.get("TOUCHLINE_BENCH_CALLGRIND") != "0" and shutil.which("callgrind_control"):
            modes = ("json", "columns", "encoded")
            counted = {mode: instructions_per_event(mode) for mode in modes}
            rows += [
                (
                    "instructions/event (callgrind), compiled schema into JSON rows",
                    f"{counted['json']:,.0f}",
                ),
                (
                    "  into columns, outside the warehouse call",
                    f"{counted['columns']:,.0f} ({counted['columns'] / counted['json']:.2f}x)",
                ),
                (
                    "  into columns, with clickhouse-connect's Native encoding (all the loader's Python)",
                    f"{counted['encoded']:,.0f} ({counted['encoded'] / counted['json']:.2f}x)",
                ),
            ]
        sink = ClickHouseRowSink(client)

        def end_to_end(messages: list[list[str]], target: Any, disable: bool = False) -> float:
            def go() -> None:
                client.command("TRUNCATE TABLE events")
                load(messages, target)

            return _wall(without_compiled(go) if disable else go, runs=2)

        def end_to_end_cpu(messages: list[list[str]], target: Any, disable: bool = False) -> float:
            """Process time (the engine runs in this process: its threads count) per event."""

            def go() -> None:
                client.command("TRUNCATE TABLE events")
                load(messages, target)

            return _cpu(without_compiled(go) if disable else go, runs=2) / events * 1e6

        cpu_before = end_to_end_cpu(batches, JsonOnly(sink), disable=True)
        cpu_json = end_to_end_cpu(packed, JsonOnly(sink))
        cpu_after = end_to_end_cpu(packed, sink)
        e2e_before = events / end_to_end(batches, JsonOnly(sink), disable=True)
        e2e_json = events / end_to_end(packed, JsonOnly(sink))
        e2e_after = events / end_to_end(packed, sink)
        assert client.query("SELECT count() FROM events").result_rows[0][0] == events
        rows += [
            ("end to end CPU µs/event (loader + engine, process time), before", f"{cpu_before:.2f}"),
            ("  packed + compiled, JSON rows", f"{cpu_json:.2f} ({cpu_json / cpu_before:.2f}x)"),
            (
                "  columns, as shipped",
                f"{cpu_after:.2f} ({cpu_after / cpu_before:.2f}x; {cpu_after / cpu_json:.2f}x JSON rows)",
            ),
            ("end to end events/s into events (MergeTree), before", f"{e2e_before:,.0f}"),
            (
                "end to end events/s, packed + compiled, JSON rows",
                f"{e2e_json:,.0f} ({e2e_json / e2e_before:.2f}x)",
            ),
            (
                "end to end events/s, columns, as shipped (goal >= 150,000)",
                f"{e2e_after:,.0f} ({e2e_after / e2e_before:.2f}x; {e2e_after / e2e_json:.2f}x JSON rows)",
            ),
        ]
        # The column insert's whole call, client encoding and engine parse, into `Null`.
        schema = batch_module._FAST["events"]
        _, _, columns_ready = schema.load(bodies[:BATCH])
        names_ready, sparse_ready = schema.sparse(columns_ready)  # what the loader sends
        null_call = _cpu(lambda: sink.insert_columns("events_null", names_ready, sparse_ready, "t"), runs=3)
        rows.append(
            (
                "  the column insert call into Null (Native encoding + engine parse), CPU/event",
                f"{null_call / BATCH * 1e6:.2f} µs",
            )
        )

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
    if sys.argv[1:2] == ["--callgrind-pass"]:
        _loader_pass(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    for label, figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000):
        print(f"{label:<88} {figure}")
