"""Sharding: reports over two shards read as one, against one database holding everything.

Two databases stand for two shards and a third of `Merge` tables reads both as one, as a
Distributed table would. What a real Distributed table does beyond this (remote shards,
`distributed_product_mode`, GLOBAL subqueries) is in docs/deploy.md, "Self-managed cluster".

* `--shards-by site_id`: each site's rows go to the shard its `cityHash64(site_id)` picks, each
  shard's aggregation sees only its own sites, and every query equals the same query over one
  database (the session's known world, tests/integration/conftest.py's `loaded`).
* `--shards-by visitor`: a site's events go to the shard of `cityHash64(site_id, visitor_id)`
  while its orders and identities stay on the site's shard. Sessions are per visitor, so session
  metrics still add up; but a person's visitors may sit on two shards, and an aggregation run per
  shard then credits an order only with the touchpoints on its own shard. The aggregation must
  read the site across shards (one run per site through the Distributed tables, as the single
  AggregatesFunction does); per-shard parallel runs are for site sharding only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from query_world import DOMAIN, GOALS

from attribution_oracle import Hit, Order, attribute, conversions, sessionize
from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
from touchline.config.watermarks import MemoryWatermarks
from touchline.ingest.rows import EventRow
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.query.cache import MemoryCache
from touchline.query.engine import QueryEngine
from touchline.query.model import Goal, SiteContext
from touchline.query.sql import ClientWarehouse
from touchline.revenue.rows import OrderRow
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.sql import ClientSql

# The query tests' day (tests/integration/conftest.py).
NOW = datetime(2024, 9, 11, 12, 0, tzinfo=UTC)
SHARDS = 2
QUERIES: list[dict[str, Any]] = [
    {"metrics": ["visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration"]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["visit:source"]},
    {"metrics": ["visitors", "visits"], "dimensions": ["time:day"]},
    {"metrics": ["visitors", "events"], "dimensions": ["event:goal"]},
    {"metrics": ["attributed_conversions:linear"], "dimensions": ["visit:channel"]},
]


def _shard(client: Any, *key: str) -> int:
    placeholders = ", ".join(f"%(k{i})s" for i in range(len(key)))
    parameters = {f"k{i}": k for i, k in enumerate(key)}
    return int(client.command(f"SELECT cityHash64({placeholders}) %% 2", parameters=parameters))


def _site_on(client: Any, shard: int, prefix: str) -> str:
    return next(s for n in range(1000) if _shard(client, s := f"{prefix}{n:04d}") == shard)


@pytest.fixture(scope="module")
def databases(chdb_path: Path, loaded: Any) -> dict[str, Any]:
    """Two shards holding the known world under two sites (one per shard), the world's own
    database (`loaded`) as the one-database answer for both, and the Merge view of the shards."""
    tag = uuid.uuid4().hex[:8]
    names = {0: f"s0_{tag}", 1: f"s1_{tag}", "merged": f"m_{tag}"}
    clients = {key: connect(f"chdb://{chdb_path}?database={name}") for key, name in names.items()}
    for key in (0, 1):
        migrate(clients[key], retention=3650)
    settings = AttributionSettings(goals=tuple(ConversionGoal(g) for g in GOALS))
    first = loaded.site.site_id
    sites = [first, _site_on(clients[0], 1 - _shard(clients[0], first), "site")]
    for site in sites:
        shard = clients[_shard(clients[0], site)]
        ClickHouseRowSink(shard).insert_rows("events", loaded.world.rows(site), f"{site}-events")
        ClickHouseRowSink(shard).insert_rows("orders", loaded.world.order_rows(site), f"{site}-orders")
        Aggregator(ClientSql(shard), MemoryWatermarks()).run(site, settings, full=True)
    person = _visitor_sharded_person(clients, loaded)
    tables = [
        str(name)
        for (name,) in clients[0]
        .query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND name != 'schema_migrations' AND engine != 'MaterializedView'"
        )
        .result_rows
    ]
    shard_re = f"^({names[0]}|{names[1]})$"
    for table in tables:
        clients["merged"].command(
            f"CREATE TABLE {table} AS {names[0]}.{table} ENGINE = Merge(REGEXP('{shard_re}'), '^{table}$')"
        )
    return {
        "clients": {**clients, "whole": loaded.client},
        "sites": sites,
        "loaded": loaded,
        "person": person,
    }


# --shards-by visitor: one person, two browsers, each on its own shard; the order on the site's.
T0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)


def _visitor_sharded_person(clients: dict[Any, Any], loaded: Any) -> dict[str, Any]:
    site = _site_on(clients[0], 0, "bysite")  # the site's shard: its orders and identities
    phone = next(v for n in range(1000) if _shard(clients[0], site, v := f"phone{n}") == 0)
    laptop = next(v for n in range(1000) if _shard(clients[0], site, v := f"laptop{n}") == 1)
    solo = next(v for n in range(1000) if _shard(clients[0], site, v := f"solo{n}") == 1)
    hits = [
        Hit(
            str(uuid.uuid4()), phone, T0, source="google", medium="cpc", click_id="g1", channel="Paid Search"
        ),
        Hit(str(uuid.uuid4()), phone, T0 + timedelta(minutes=3), pathname="/pricing"),
        Hit(
            str(uuid.uuid4()),
            laptop,
            T0 + timedelta(hours=2),
            source="newsletter",
            medium="email",
            channel="Email",
        ),
        Hit(str(uuid.uuid4()), solo, T0 + timedelta(hours=3), source="google", channel="Organic Search"),
    ]
    order = Order(
        "stripe", "o_cross", T0 + timedelta(hours=2, minutes=5), Decimal("100.00"), "USD", visitor_id=laptop
    )
    identity = {("visitor", phone): "user:u1", ("visitor", laptop): "user:u1", ("user", "u1"): "user:u1"}
    settings = AttributionSettings()
    for key, part in (
        (0, [h for h in hits if h.visitor_id == phone]),
        (1, [h for h in hits if h.visitor_id != phone]),
    ):
        _load(clients[key], site, part, [order] if key == 0 else [], identity if key == 0 else {})
    for key in (0, 1):  # an aggregation run per shard, each seeing only its own rows
        Aggregator(ClientSql(clients[key]), MemoryWatermarks()).run(site, settings, full=True)
    # The same rows in one database (what one run reading across the shards sees): the world's.
    _load(loaded.client, site, hits, [order], identity)
    Aggregator(ClientSql(loaded.client), MemoryWatermarks()).run(site, settings, full=True)
    credits = attribute(sessionize(hits), conversions(hits, [order], [], identity, {}), identity)
    linear: dict[str, Decimal] = defaultdict(Decimal)
    for credit in credits:
        if credit.model == "linear":
            linear[credit.channel] += credit.attributed_revenue
    return {"site": site, "linear": {k: f"{v:.2f}" for k, v in linear.items()}, "hits": hits}


def _load(client: Any, site: str, hits: list[Hit], orders: list[Order], identity: dict[Any, str]) -> None:
    sink = ClickHouseRowSink(client)
    if hits:
        rows = [
            EventRow(
                event_id=uuid.UUID(h.event_id),
                site_id=site,
                timestamp=h.at,
                received_at=h.at,
                event_type=h.event_type,
                name=h.name,
                visitor_id=h.visitor_id,
                url=f"https://{DOMAIN}/",
                hostname=DOMAIN,
                pathname=h.pathname,
                referrer_source=h.source,
                utm_medium=h.medium,
                click_id=h.click_id,
                channel=h.channel,
            ).to_json()
            for h in hits
        ]
        sink.insert_rows("events", rows, uuid.uuid4().hex)
    if orders:
        rows = [
            OrderRow(
                site_id=site,
                source=o.source,
                order_id=o.order_id,
                status="paid",
                ordered_at=o.at,
                currency=o.currency,
                amount=o.amount,
                visitor_id=o.visitor_id,
                version=1,
            ).to_json()
            for o in orders
        ]
        sink.insert_rows("orders", rows, uuid.uuid4().hex)
    if identity:
        client.insert(
            "identity_map",
            [[site, t, v, p, 1] for (t, v), p in identity.items()],
            column_names=["site_id", "id_type", "id_value", "person_id", "version"],
        )


def _run(client: Any, site_id: str, body: dict[str, Any]) -> list[Any]:
    site = SiteContext(site_id, DOMAIN, "UTC", tuple(Goal(g, g) for g in GOALS))
    engine = QueryEngine(ClientWarehouse(client), cache=MemoryCache(), clock=lambda: NOW)
    result = engine.run({"site_id": DOMAIN, "date_range": "all", **body}, site)
    return list(result["results"])


@pytest.mark.parametrize("body", QUERIES, ids=lambda b: "+".join(b.get("dimensions", ["total"])))
def test_two_shards_read_as_one_equal_one_table(databases: dict[str, Any], body: dict[str, Any]) -> None:
    clients = databases["clients"]
    # Both sites hold the known world's rows: each equals the world's own database.
    expected = _run(clients["whole"], databases["loaded"].site.site_id, body)
    assert expected and any(any(row["metrics"]) for row in expected), body
    for site in databases["sites"]:
        assert _run(clients["merged"], site, body) == expected, (site, body)


def test_each_shard_holds_only_its_sites(databases: dict[str, Any]) -> None:
    clients = databases["clients"]
    for shard in range(SHARDS):
        sites = {str(s) for (s,) in clients[shard].query("SELECT DISTINCT site_id FROM sessions").result_rows}
        sites &= set(databases["sites"])  # the site-sharded ones (not the visitor-sharded person's)
        assert len(sites) == 1
        for site in sites:
            assert (
                int(clients[shard].command("SELECT cityHash64(%(s)s) %% 2", parameters={"s": site})) == shard
            )


def _values(client: Any, site: str, body: dict[str, Any]) -> dict[str, Any]:
    engine = QueryEngine(ClientWarehouse(client), cache=MemoryCache(), clock=lambda: NOW)
    answer = engine.run({"site_id": site, "date_range": "all", **body}, SiteContext(site, site))
    return {r["dimensions"][0]: r["metrics"][0] for r in answer["results"]}


def test_shards_by_visitor_keep_session_metrics_but_split_a_persons_journey(
    databases: dict[str, Any],
) -> None:
    """A person's phone (Paid Search) and laptop (Email, where the $100.00 order is) on two
    shards: session metrics add up, but per-shard aggregation credits the order only with the
    phone's touch, which shares the order's shard; read across shards it is the definition's split."""
    clients, person = databases["clients"], databases["person"]
    site = person["site"]
    visits = {"metrics": ["visits"], "dimensions": ["visit:channel"]}
    expected_visits = {"Paid Search": 1, "Email": 1, "Organic Search": 1}
    assert _values(clients["merged"], site, visits) == expected_visits
    assert _values(clients["whole"], site, visits) == expected_visits
    revenue = {"metrics": ["attributed_revenue:linear"], "dimensions": ["visit:channel"]}
    one_database = {k: v["amount"] for k, v in _values(clients["whole"], site, revenue).items() if v}
    assert one_database == person["linear"] == {"Paid Search": "50.00", "Email": "50.00"}
    per_shard = {k: v["amount"] for k, v in _values(clients["merged"], site, revenue).items() if v}
    assert per_shard == {"Paid Search": "100.00"}  # the laptop's Email touch is on the other shard
