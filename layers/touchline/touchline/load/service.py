"""Wires the loader from settings: one ClickHouse client per Lambda container."""

from __future__ import annotations

from functools import cache

from clickhouse_connect.driver.client import Client

from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.settings import WarehouseSettings
from touchline.warehouse.client import connect


def clickhouse_url(settings: WarehouseSettings) -> str:
    """The URL itself (local stack, tests) or the secret that holds it (AWS), cached by Powertools."""
    if settings.clickhouse_url:
        return settings.clickhouse_url
    if settings.clickhouse_url_secret:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(settings.clickhouse_url_secret, max_age=300))
    raise RuntimeError("set TOUCHLINE_CLICKHOUSE_URL or TOUCHLINE_CLICKHOUSE_URL_SECRET")


@cache
def warehouse_client() -> Client:
    """One ClickHouse client per Lambda container, from the URL or its secret."""
    return connect(clickhouse_url(WarehouseSettings.from_env()))


@cache
def sink() -> ClickHouseRowSink:
    return ClickHouseRowSink(warehouse_client())


def new_batch() -> LoadBatch:
    return LoadBatch(sink())


def reset() -> None:
    """Forget the cached client (tests switch ClickHouse URLs between cases)."""
    sink.cache_clear()
    warehouse_client.cache_clear()
