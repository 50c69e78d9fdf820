"""Wires the loader from settings: one ClickHouse client per Lambda container."""

from __future__ import annotations

from functools import cache

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
def sink() -> ClickHouseRowSink:
    return ClickHouseRowSink(connect(clickhouse_url(WarehouseSettings.from_env())))


def new_batch() -> LoadBatch:
    return LoadBatch(sink())
