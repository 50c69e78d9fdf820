"""Site sharding: reports over two shards read as one equal the one-table numbers.

Two databases stand for two shards. Each site's rows go to the shard its `cityHash64(site_id)`
picks (what the cluster's Distributed tables do with `--shards-by site_id`), each shard's
aggregation sees only its own sites, and a third database of `Merge` tables reads both shards as
one, as a Distributed table would. Every query then returns what the same query returns over one
database holding everything. What a real Distributed table does beyond this (remote shards,
`distributed_product_mode`, GLOBAL subqueries) is in docs/deploy.md, "Self-managed cluster".
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from query_world import DOMAIN, GOALS, World

from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
from touchline.config.watermarks import MemoryWatermarks
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.query.cache import MemoryCache
from touchline.query.engine import QueryEngine
from touchline.query.model import Goal, SiteContext
from touchline.query.sql import ClientWarehouse
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.sql import ClientSql

# The query tests' day (tests/integration/query/conftest.py).
TODAY = date(2024, 9, 11)
NOW = datetime(2024, 9, 11, 12, 0, tzinfo=UTC)
SHARDS = 2
QUERIES: list[dict[str, Any]] = [
    {"metrics": ["visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration"]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["visit:source"]},
    {"metrics": ["visitors", "visits"], "dimensions": ["time:day"]},
    {"metrics": ["visitors", "events"], "dimensions": ["event:goal"]},
    {"metrics": ["attributed_conversions:linear"], "dimensions": ["visit:channel"]},
]


def _site_ids(client: Any) -> list[str]:
    """Two sites, one on each shard (by the cluster's sharding key)."""
    picked: dict[int, list[str]] = {0: [], 1: []}
    n = 0
    while min(len(v) for v in picked.values()) < 1:
        site = f"site{n:04d}"
        shard = int(client.command("SELECT cityHash64(%(s)s) %% 2", parameters={"s": site}))
        if not picked[shard]:
            picked[shard].append(site)
        n += 1
    return picked[0] + picked[1]


@pytest.fixture(scope="module")
def databases(chdb_path: Path) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    names = {"whole": f"w_{tag}", 0: f"s0_{tag}", 1: f"s1_{tag}", "merged": f"m_{tag}"}
    clients = {key: connect(f"chdb://{chdb_path}?database={name}") for key, name in names.items()}
    for key in ("whole", 0, 1):
        migrate(clients[key], retention=3650)
    world = World.build(TODAY)
    settings = AttributionSettings(goals=tuple(ConversionGoal(g) for g in GOALS))
    sites = _site_ids(clients["whole"])
    for site in sites:
        shard = int(clients["whole"].command("SELECT cityHash64(%(s)s) %% 2", parameters={"s": site}))
        for key in ("whole", shard):
            ClickHouseRowSink(clients[key]).insert_rows("events", world.rows(site), f"{site}-events")
            Aggregator(ClientSql(clients[key]), MemoryWatermarks()).run(site, settings, full=True)
    whole = clients["whole"]
    tables = [
        str(name)
        for (name,) in whole.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND name != 'schema_migrations' AND engine != 'MaterializedView'"
        ).result_rows
    ]
    shard_re = f"^({names[0]}|{names[1]})$"
    for table in tables:
        clients["merged"].command(
            f"CREATE TABLE {table} AS {names[0]}.{table} ENGINE = Merge(REGEXP('{shard_re}'), '^{table}$')"
        )
    return {"clients": clients, "sites": sites}


def _run(client: Any, site_id: str, body: dict[str, Any]) -> list[Any]:
    site = SiteContext(site_id, DOMAIN, "UTC", tuple(Goal(g, g) for g in GOALS))
    engine = QueryEngine(ClientWarehouse(client), cache=MemoryCache(), clock=lambda: NOW)
    result = engine.run({"site_id": DOMAIN, "date_range": "all", **body}, site)
    return list(result["results"])


@pytest.mark.parametrize("body", QUERIES, ids=lambda b: "+".join(b.get("dimensions", ["total"])))
def test_two_shards_read_as_one_equal_one_table(databases: dict[str, Any], body: dict[str, Any]) -> None:
    clients = databases["clients"]
    for site in databases["sites"]:
        expected = _run(clients["whole"], site, body)
        assert expected and any(any(row["metrics"]) for row in expected), (site, body)
        assert _run(clients["merged"], site, body) == expected, (site, body)


def test_each_shard_holds_only_its_sites(databases: dict[str, Any]) -> None:
    clients = databases["clients"]
    for shard in range(SHARDS):
        sites = {str(s) for (s,) in clients[shard].query("SELECT DISTINCT site_id FROM sessions").result_rows}
        assert len(sites) == 1
        for site in sites:
            assert (
                int(clients[shard].command("SELECT cityHash64(%(s)s) %% 2", parameters={"s": site})) == shard
            )
