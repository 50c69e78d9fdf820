"""The known site every query test reads: `tests/query_world.py` loaded and aggregated once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from query_world import DOMAIN, GOALS, World

from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
from touchline.config.watermarks import MemoryWatermarks
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.query.engine import QueryEngine
from touchline.query.model import Goal, SiteContext
from touchline.query.sql import ClientWarehouse
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.sql import ClientSql

# The day Plausible's docs examples were answered on: "7d" is 2024-09-04..2024-09-10 there.
TODAY = date(2024, 9, 11)
NOW = datetime(2024, 9, 11, 12, 0, tzinfo=UTC)
SITE_ID = "dummysite0000001"


@dataclass
class Loaded:
    client: Any
    world: World
    site: SiteContext
    url: str

    def engine(self, **options: Any) -> QueryEngine:
        return QueryEngine(ClientWarehouse(self.client), clock=lambda: NOW, **options)

    def run(self, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.engine(**options).run(body, self.site)


def load_world(chdb_path: Path, world: World, site_id: str = SITE_ID, timezone: str = "UTC") -> Loaded:
    # Retention long enough for 2024 data whatever today is (the TTL counts from the real now).
    url = f"chdb://{chdb_path}?database=q_{uuid.uuid4().hex[:12]}"
    client = connect(url)
    migrate(client, retention_days=3650)
    ClickHouseRowSink(client).insert_rows("events", world.rows(site_id), "events")
    goals = tuple(ConversionGoal(g) for g in GOALS)
    settings = AttributionSettings(goals=goals)
    Aggregator(ClientSql(client), MemoryWatermarks()).run(site_id, settings, full=True)
    site = SiteContext(site_id, DOMAIN, timezone, tuple(Goal(g, g) for g in GOALS))
    return Loaded(client, world, site, url)


@pytest.fixture(scope="session")
def loaded(chdb_path: Path) -> Iterator[Loaded]:
    yield load_world(chdb_path, World.build(TODAY))
