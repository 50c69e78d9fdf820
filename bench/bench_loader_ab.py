"""The loader against another commit's loader in one process, interleaved: the A/B the loader
passes quote (docs/performance.md), since a lone wall-clock figure on a shared machine says little.

The other commit's `touchline` package is exported (`git archive`) and imported as
`touchline_base` beside this tree's; both load the same packed tag envelopes (batches of `size`:
4,993 is the biggest Lambda's 6 MB payload allows), alternating, best of `runs`:

- outside the sink call (process time, a sink that stores nothing);
- with clickhouse-connect's Native encoding (a client that encodes and sends nothing);
- end to end into the embedded engine's `events` (wall time), each side through its own tree's
  warehouse client on the one engine, and whether both stored the same rows.

Each figure is the best of its side, then the ratio of the bests; "median pair" is the median of
the attempts' own this/base time ratios (the two sides run back to back), the steadier of the two
on a shared machine.

    .venv/bin/python -m bench.bench_loader_ab [base-ref] [size] [events] [runs]
"""

from __future__ import annotations

import importlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_loader_formats import EncodeOnly, NullSink, events_types
from bench.common import ROOT


def _export(ref: str, into: Path) -> None:
    """`ref`'s touchline package as `touchline_base` under `into`."""
    archive = subprocess.run(
        ["git", "archive", ref, "layers/touchline/touchline"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    package = into / "layers/touchline/touchline"
    for path in package.rglob("*.py"):
        text = re.sub(r"\b(from|import) touchline(\.| )", r"\1 touchline_base\2", path.read_text())
        path.write_text(text.replace('"touchline.', '"touchline_base.'))
    package.rename(package.with_name("touchline_base"))
    sys.path.insert(0, str(into / "layers/touchline"))


def run(ref: str = "main", size: int = 4_993, events: int = 19_972, runs: int = 5) -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "tests"))
    import factories
    from touchline.envelope import pack
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    with tempfile.TemporaryDirectory(prefix="bench-loader-ab-") as tmp:
        _export(ref, Path(tmp))
        sides = {
            "base": [
                importlib.import_module(f"touchline_base.load.{m}") for m in ("batch", "clickhouse_sink")
            ],
            "this": [importlib.import_module(f"touchline.load.{m}") for m in ("batch", "clickhouse_sink")],
        }
        bodies = factories.envelope_bodies(events)
        messages = [pack(bodies[i : i + size], 250_000) for i in range(0, events, size)]
        url = f"chdb://{Path(tmp) / 'clickhouse'}?database=bench"
        client = connect(url)
        migrate(client)
        # each side inserts through its own tree's warehouse client (two handles on one engine), so
        # a change to how the client reaches the engine shows in the end-to-end figure
        clients = {
            "base": importlib.import_module("touchline_base.warehouse.client").connect(url),
            "this": client,
        }
        types = events_types(client)

        def load(batch_module: Any, sink: Any) -> None:
            for chunk in messages:
                batch = batch_module.LoadBatch(sink)
                for i, body in enumerate(chunk):
                    batch.add(body, str(i))
                batch.flush()

        def sinks(sink_module: Any, side: str) -> dict[str, Any]:
            return {
                "outside": NullSink(),
                "encoded": sink_module.ClickHouseRowSink(EncodeOnly(types)),
                "e2e": sink_module.ClickHouseRowSink(clients[side]),
            }

        cases = {side: sinks(sink_module, side) for side, (_, sink_module) in sides.items()}
        best: dict[tuple[str, str], float] = {}
        # each attempt's this/base time per case: the two sides ran next to each other, so their
        # ratio drifts less with the machine than two bests taken minutes apart
        pairs: dict[str, list[float]] = {"outside": [], "encoded": [], "e2e": []}
        for attempt in range(runs):
            for case in ("outside", "encoded", "e2e"):
                last: dict[str, float] = {}
                for side in ("base", "this") if attempt % 2 == 0 else ("this", "base"):
                    if case == "e2e":
                        client.command("TRUNCATE TABLE events")
                    clock = time.perf_counter if case == "e2e" else time.process_time
                    started = clock()
                    load(sides[side][0], cases[side][case])
                    elapsed = clock() - started
                    best[case, side] = min(best.get((case, side), elapsed), elapsed)
                    last[side] = elapsed
                pairs[case].append(last["this"] / last["base"])
        stored = {}
        for side in ("base", "this"):
            client.command("TRUNCATE TABLE events")
            load(sides[side][0], cases[side]["e2e"])
            stored[side] = client.query(
                "SELECT * EXCEPT inserted_at FROM events ORDER BY event_id"
            ).result_rows
    load_average = os.getloadavg()[0]
    heading = f"{ref} -> this tree, batches of {size}, {events} events, best of {runs}"
    rows = [(heading, f"load {load_average:.1f}")]
    for case, label in (("outside", "outside the sink call"), ("encoded", "with the Native encoding")):
        base, this = (best[case, side] / events * 1e6 for side in ("base", "this"))
        rows.append(
            (
                f"  µs/event {label}",
                f"{base:.2f} -> {this:.2f} ({this / base:.2f}x;"
                f" median pair {statistics.median(pairs[case]):.3f}x)",
            )
        )
    base, this = (events / best["e2e", side] for side in ("base", "this"))
    rows.append(
        (
            "  events/s end to end",
            f"{base:,.0f} -> {this:,.0f} ({this / base:.2f}x;"
            f" median pair time {statistics.median(pairs['e2e']):.3f}x)",
        )
    )
    rows.append(("  stored rows equal", f"{stored['base'] == stored['this']} ({len(stored['this'])} rows)"))
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    for label, figure in run(args[0] if args else "main", *(int(a) for a in args[1:4])):
        print(f"{label:<72} {figure}")
