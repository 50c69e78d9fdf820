"""The tracking API → envelopes → loader handler → warehouse → query engine, in process.

Shared by the tests of the tables the tracking API fills beside `events` (devices, objects):
every envelope is delivered three times, as SQS may.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from factories import sqs_event
from helpers import LambdaContextStub, fresh_database, load_handler_module
from touchline.config.write_keys import WriteKey
from touchline.consent.policy import OFF, ConsentPolicy
from touchline.enrichment import FullEnricher
from touchline.ingest.queue import ListQueue
from touchline.load import service
from touchline.query.engine import QueryEngine
from touchline.query.model import SiteContext
from touchline.query.sql import ClientWarehouse
from touchline.tracking.api import ApiRequest, TrackingApi
from touchline.tracking.convert import MessageConverter
from touchline.tracking.enrich import ContextEnricher
from touchline.tracking.keys import WriteKeyResolver
from touchline.warehouse.client import connect

SPECS = Path(__file__).resolve().parent / "payloads" / "specs"
KEY, DOMAIN = "tlwk_pipeline", "app.example.com"
RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class _Keys:
    def __init__(self, site: str) -> None:
        self.site = site

    def lookup(self, key: str) -> WriteKey | None:
        return WriteKey("kid", self.site, DOMAIN, "", False) if key == KEY else None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def module_warehouse(chdb_path: Path) -> Iterator[tuple[ModuleType, str]]:
    """One migrated database for the module (a copy of the session's template); each test has its site."""
    url = fresh_database(chdb_path)  # a copy of the session's migrated template
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOUCHLINE_CLICKHOUSE_URL", url)
        service.reset()
        yield load_handler_module("loader"), url
        service.reset()


class Pipeline:
    def __init__(self, loader: ModuleType, url: str, context: LambdaContextStub) -> None:
        self.site = f"dev{uuid.uuid4().hex[:10]}"
        self.queue = ListQueue()
        self.consent: ConsentPolicy = OFF  # the site's consent setting, read on every request
        self.received = RECEIVED  # the API's clock
        self.api = TrackingApi(
            WriteKeyResolver(
                _Keys(self.site), ttl_seconds=0, negative_ttl_seconds=0, consent_of=lambda _site: self.consent
            ),
            self.queue,
            MessageConverter(ContextEnricher(FullEnricher())),
            clock=lambda: self.received,
        )
        self.loader, self.url, self.context = loader, url, context
        self.client = connect(url)

    def send(self, messages: list[dict[str, Any]]) -> dict[str, object]:
        auth = {"authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()}
        body = json.dumps({"batch": messages}).encode()
        return self.api.handle(ApiRequest("batch", body, auth)).body()

    def deliver(self) -> None:
        """Every queued envelope, three times: once alone, twice more in another batch."""
        bodies = list(self.queue.bodies)
        self.queue.bodies.clear()
        for batch in (bodies, bodies, bodies[::-1]):
            assert self.loader.handler(sqs_event(batch), self.context) == {"batchItemFailures": []}

    def sql(self, query: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """`query` with `{site:String}` bound to this test's site."""
        rows: list[tuple[Any, ...]] = self.client.query(
            query, parameters={"site": self.site, **parameters}
        ).result_rows
        return rows

    def table(self, name: str, order: str) -> list[dict[str, Any]]:
        """This test's site's rows of a table, FINAL."""
        result = self.client.query(
            f"SELECT * FROM {name} FINAL WHERE site_id = {{site:String}} ORDER BY {order}",
            parameters={"site": self.site},
        )
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    def holding(self, *needles: str) -> dict[str, set[str]]:
        """Per needle, every table of the database with rows of this site that contain it
        anywhere (any column, maps and arrays included), in one statement."""
        tables = sorted(
            str(name)
            for (name,) in self.client.query(
                "SELECT DISTINCT table FROM system.columns WHERE database = currentDatabase() "
                "AND name = 'site_id'"
            ).result_rows
        )
        scans = " UNION ALL ".join(
            f"SELECT DISTINCT '{name}' AS t, needle FROM {name} "
            "ARRAY JOIN {needles:Array(String)} AS needle "
            "WHERE site_id = {site:String} AND position(formatRow('TSV', *), needle) > 0"
            for name in tables
        )
        found: dict[str, set[str]] = {needle: set() for needle in needles}
        for table, needle in self.client.query(
            scans, parameters={"site": self.site, "needles": list(needles)}
        ).result_rows:
            found[str(needle)].add(str(table))
        return found

    def devices(self) -> list[dict[str, Any]]:
        result = self.client.query(
            "SELECT * FROM devices FINAL WHERE site_id = {site:String} ORDER BY device_id",
            parameters={"site": self.site},
        )
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    def query(self, site_settings: dict[str, Any] | None = None, **body: Any) -> list[dict[str, Any]]:
        """`body` through the query engine at RECEIVED; `site_settings`: SiteContext fields."""
        engine = QueryEngine(ClientWarehouse(self.client), clock=lambda: RECEIVED)
        site = SiteContext(self.site, DOMAIN, "UTC", (), **(site_settings or {}))
        answer = engine.run({"site_id": self.site, "date_range": "all", **body}, site)
        rows: list[dict[str, Any]] = answer["results"]
        return rows
