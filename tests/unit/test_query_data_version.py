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
