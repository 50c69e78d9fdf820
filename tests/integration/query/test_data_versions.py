"""The cache's data version, on the embedded engine: every write moves its site's version, by
itself (a materialized view inside the INSERT), and the cache answers anew after it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from touchline.identity import gdpr
from touchline.ingest.rows import EventRow
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.query.cache import DataVersion, MemoryCache
from touchline.query.engine import QueryEngine, RunInfo
from touchline.query.model import SiteContext
from touchline.query.sql import ClientWarehouse
from touchline.warehouse.client import connect
from touchline.warehouse.sql import ClientSql
from touchline.warehouse.versions import bump

AT = datetime(2026, 11, 2, 10, tzinfo=UTC)
NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)


def _hits(site: str, n: int) -> list[str]:
    return [
        EventRow(
            event_id=uuid.uuid4(),
            site_id=site,
            timestamp=AT,
            received_at=AT,
            event_type="pageview",
            name="pageview",
            visitor_id=f"v{i}",
            pathname="/",
        ).to_json()
        for i in range(n)
    ]


def test_every_write_moves_its_sites_version_and_the_cache_answers_anew(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    version = DataVersion(ClientWarehouse(client))
    engine = QueryEngine(ClientWarehouse(client), cache=MemoryCache(), clock=lambda: NOW)
    site = SiteContext("site-a", "a.example.com")
    body = {"site_id": "a.example.com", "metrics": ["pageviews"], "date_range": "7d"}

    def ask() -> tuple[int, bool]:
        info = RunInfo()
        answer = engine.run(body, site, info=info)
        return answer["results"][0]["metrics"][0], info.cached

    def stored() -> int:
        return int(client.command("SELECT count() FROM events WHERE site_id = 'site-a'"))

    sink = ClickHouseRowSink(client)
    a0, b0 = version.current("site-a"), version.current("site-b")
    sink.insert_rows("events", _hits("site-a", 3), "batch-1")
    a1 = version.current("site-a")
    assert a1[0] != a0[0] and a1[1] is not None  # and when the site's events were stored
    assert ask() == (3, False) and ask() == (3, True)
    # Another site's write leaves this site's entries valid.
    sink.insert_rows("events", _hits("site-b", 2), "batch-2")
    assert version.current("site-a") == a1 and version.current("site-b")[0] != b0[0]
    assert ask() == (3, True)
    # One more hit of this site: answered anew.
    sink.insert_rows("events", _hits("site-a", 1), "batch-3")
    assert ask() == (4, False)
    # An INSERT … SELECT (as the aggregation writes) moves it too: nothing has to remember to.
    before = version.current("site-a")
    client.command(
        "INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, "
        "pathname) SELECT generateUUIDv4(), 'site-a', {at:DateTime64(3, 'UTC')}, "
        "{at:DateTime64(3, 'UTC')}, 'pageview', 'pageview', 'v9', '/' FROM numbers(1)",
        parameters={"at": AT},
    )
    assert version.current("site-a") != before and ask() == (5, False)
    # A mutation fires no view: the code that mutates bumps the version.
    client.command(
        "ALTER TABLE events DELETE WHERE site_id = 'site-a' AND visitor_id = 'v9' SETTINGS mutations_sync = 2"
    )
    assert ask() == (5, True)  # still the cached answer: what bump() is for
    bump(ClientSql(client), "site-a", ["events", "not_a_versioned_table"])
    assert ask() == (4, False) and stored() == 4
    # The GDPR delete mutates, then bumps.
    subject = gdpr.Subject("site-a", identifiers={("visitor", "v1")}, person_ids={"visitor:v1"})
    assert gdpr.delete(ClientSql(client), subject)["events"] == 1
    assert ask() == (3, False) and stored() == 3
