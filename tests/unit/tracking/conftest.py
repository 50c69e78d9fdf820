"""An in-process tracking API: real converter and enricher, an in-memory queue, one write key."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from touchline.config.write_keys import WriteKey
from touchline.enrichment import FullEnricher
from touchline.ingest.queue import ListQueue
from touchline.ingest.rows import EventRow
from touchline.tracking.api import ApiRequest, TrackingApi
from touchline.tracking.convert import MessageConverter
from touchline.tracking.enrich import ContextEnricher
from touchline.tracking.keys import WriteKeyResolver

KEY = "tlwk_test_key"
SITE = "site1"
DOMAIN = "shop.example.com"
RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Keys:
    def __init__(self) -> None:
        self.revoked = False
        self.lookups = 0

    def lookup(self, key: str) -> WriteKey | None:
        self.lookups += 1
        return WriteKey("kid", SITE, DOMAIN, "", self.revoked) if key == KEY else None


def basic(key: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


class Harness:
    def __init__(self) -> None:
        self.keys = Keys()
        self.queue = ListQueue()
        self.api = TrackingApi(
            WriteKeyResolver(self.keys, ttl_seconds=0, negative_ttl_seconds=0),
            self.queue,
            MessageConverter(ContextEnricher(FullEnricher())),
            clock=lambda: RECEIVED,
        )

    def post(self, call: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.api.handle(ApiRequest(call, raw, headers if headers is not None else basic(KEY)))

    def rows(self, table: str) -> list[dict[str, Any]]:
        return [e["row"] for e in map(json.loads, self.queue.bodies) if e["kind"] == table]

    def events(self) -> list[EventRow]:
        return [EventRow.model_validate(r) for r in self.rows("events")]


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def make_harness() -> Callable[[], Harness]:
    return Harness
