"""The cache's data version where no digest can cover every write: a cluster's Distributed tables.

On a self-managed cluster the engine's tables are `Distributed` and own no parts, so a
`system.parts` digest would never change and cached answers would outlive new data. The
embedded engine has no clusters (a Distributed table cannot be created on it), so the warehouse
here answers `system.tables` as a cluster's server does; everything else is the real engine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from touchline.query.cache import DISTRIBUTED_SQL, VERSION_SQL, MemoryCache
from touchline.query.engine import QueryEngine, RunInfo
from touchline.query.model import SiteContext

SITE = SiteContext("s1", "shop.example.com")
QUERY = {"site_id": "shop.example.com", "metrics": ["pageviews"], "date_range": "7d"}


class Warehouse:
    def __init__(self, distributed_tables: int) -> None:
        self.distributed = distributed_tables
        self.pageviews = 1
        self.statements: list[str] = []

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        self.statements.append(sql)
        if sql == DISTRIBUTED_SQL:
            return ["count()"], [(self.distributed,)]
        if sql == VERSION_SQL:
            return [], [("events", "all", 1, 1, 10, datetime(2026, 11, 1, tzinfo=UTC), 1)]
        return ["pageviews", "total"], [(self.pageviews, 1)]


def _run(engine: QueryEngine) -> tuple[int, bool]:
    info = RunInfo()
    answer = engine.run(QUERY, SITE, info=info)
    return answer["results"][0]["metrics"][0], info.cached


def test_on_a_cluster_every_answer_is_computed() -> None:
    warehouse = Warehouse(distributed_tables=8)
    engine = QueryEngine(warehouse, cache=MemoryCache())
    assert _run(engine) == (1, False)
    warehouse.pageviews = 2  # a write on another shard: no part of it is visible here
    assert _run(engine) == (2, False)
    assert VERSION_SQL not in warehouse.statements
    assert warehouse.statements.count(DISTRIBUTED_SQL) == 1  # asked once per engine


def test_on_one_server_identical_queries_are_cached() -> None:
    warehouse = Warehouse(distributed_tables=0)
    engine = QueryEngine(warehouse, cache=MemoryCache())
    assert _run(engine) == (1, False)
    assert _run(engine) == (1, True)


class SlowParts:
    """`system.parts` read by read: the first read blocks until released; each read's digest is
    its number, so a caller can tell which read answered it."""

    def __init__(self) -> None:
        import threading

        self.reads = 0
        self.first_begun = threading.Event()
        self.release_first = threading.Event()

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        if sql == DISTRIBUTED_SQL:
            return ["count()"], [(0,)]
        self.reads += 1
        number = self.reads
        if number == 1:
            self.first_begun.set()
            self.release_first.wait(10)
        return [], [("events", "all", number, 1, 10, datetime(2026, 11, 1, tzinfo=UTC), 1)]


def test_concurrent_requests_share_the_next_version_read_never_one_begun_before_them() -> None:
    import threading
    import time

    from touchline.query.cache import DataVersion, SharedReads

    parts = SlowParts()
    shared = SharedReads(DataVersion(parts))
    answers: dict[str, Any] = {}

    def ask(name: str) -> None:
        answers[name] = shared.current()

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert parts.first_begun.wait(10)
    # Five requests arrive while the first read is under way: a write may have landed after it
    # began, so none of them may take its answer; they share one read that begins after it.
    later = [threading.Thread(target=ask, args=(f"later{i}",)) for i in range(5)]
    for thread in later:
        thread.start()
    deadline = time.monotonic() + 10
    while not (shared._pending is not None and shared._pending.followers == 4):  # all five in
        assert time.monotonic() < deadline
        time.sleep(0.01)
    parts.release_first.set()
    for thread in [first, *later]:
        thread.join(10)
    assert parts.reads == 2
    assert len({answers[f"later{i}"] for i in range(5)}) == 1
    assert answers["later0"] != answers["first"]
    assert shared.current() != answers["later0"]  # alone, a request reads for itself
    assert parts.reads == 3
