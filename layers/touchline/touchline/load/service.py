"""Wires the warehouse from settings: the ClickHouse client of the URL (or its secret) in force.

In AWS the URL, password included, lives in Secrets Manager. Powertools caches the secret for
`TOUCHLINE_SECRET_CACHE_SECONDS` (300) and then reads it again; a changed URL (a rotated
password) opens a new client, so a rotation takes effect without a cold start. If the secret
cannot be read when its cache expires, the last client carries on and the failure is reported
(`Degraded`, dependency `clickhouse_url_secret`); with no client yet, the error is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from clickhouse_connect.driver.client import Client

from touchline.aws.degraded import DegradedReporter
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.settings import WarehouseSettings
from touchline.warehouse.client import connect

CLICKHOUSE_URL_SECRET = "clickhouse_url_secret"


def clickhouse_url(settings: WarehouseSettings) -> str:
    """The URL itself (local stack, tests) or the secret that holds it (AWS), cached by Powertools."""
    if settings.clickhouse_url:
        return settings.clickhouse_url
    if settings.clickhouse_url_secret:
        from aws_lambda_powertools.utilities import parameters

        return str(
            parameters.get_secret(settings.clickhouse_url_secret, max_age=settings.secret_cache_seconds)
        )
    raise RuntimeError("set TOUCHLINE_CLICKHOUSE_URL or TOUCHLINE_CLICKHOUSE_URL_SECRET")


class _Warehouse:
    """The client of the current URL, replaced when the URL changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._url: str | None = None
        self._client: Client | None = None

    def client(self) -> Client:
        try:
            url = clickhouse_url(_settings())
        except Exception as exc:
            if self._client is None:
                raise
            _degraded()(CLICKHOUSE_URL_SECRET, exc)
            return self._client
        with self._lock:
            if self._client is None or url != self._url:
                previous, self._client, self._url = self._client, connect(url), url
                if previous is not None:
                    previous.close()
            return self._client

    def forget(self) -> None:
        with self._lock:
            self._client, self._url = None, None


_warehouse = _Warehouse()


@cache
def _settings() -> WarehouseSettings:
    return WarehouseSettings.from_env()


@cache
def _degraded() -> DegradedReporter:
    return DegradedReporter()


def warehouse_client() -> Client:
    """The ClickHouse client for the URL in force (see the module doc)."""
    return _warehouse.client()


class CurrentSink:
    """A row sink that always writes through the client in force, for holders that live long
    (a sync environment cached per container)."""

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        ClickHouseRowSink(warehouse_client()).insert_rows(table, json_rows, dedup_token)

    def insert_columns(
        self, table: str, names: Sequence[str], columns: Sequence[Sequence[Any]], dedup_token: str
    ) -> None:
        ClickHouseRowSink(warehouse_client()).insert_columns(table, names, columns, dedup_token)

    def select(self, query: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]:
        return ClickHouseRowSink(warehouse_client()).select(query, parameters)


def sink() -> CurrentSink:
    return CurrentSink()


def new_batch() -> LoadBatch:
    return LoadBatch(sink())


def reset() -> None:
    """Forget the client and settings (tests switch ClickHouse URLs between cases)."""
    _warehouse.forget()
    _settings.cache_clear()
