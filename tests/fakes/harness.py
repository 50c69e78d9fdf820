"""What sync tests share: a run environment on moto + the embedded ClickHouse, and a crashing sink."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from clickhouse_connect.driver.client import Client

from helpers import TABLE
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.config.sync_state import SyncStateStore
from touchline.load.batch import RowSink
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.syncs.service import SyncEnvironment
from touchline.warehouse.client import connect

SITE = "site1"


@dataclass
class SyncHarness:
    env: SyncEnvironment
    clickhouse: Client
    secrets: Any
    sleeps: list[float]

    def connect(self, provider: Any, credentials: dict[str, Any], base_url: str, **options: Any) -> None:
        self.env.integrations.add(
            SITE, provider, credentials, self.secrets, api_base_url=base_url, options=options
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.clickhouse.query(sql).result_rows]

    def scalar(self, sql: str) -> Any:
        return self.clickhouse.query(sql).result_rows[0][0]


def make_harness(warehouse_url: str) -> SyncHarness:
    """Needs moto running (the `aws` fixture) with the config table."""
    dynamodb = boto3.client("dynamodb")
    secrets = boto3.client("secretsmanager")
    client = connect(warehouse_url)
    sleeps: list[float] = []

    def secret(name: str) -> str:
        return str(secrets.get_secret_value(SecretId=name)["SecretString"])

    env = SyncEnvironment(
        integrations=SyncIntegrationStore(dynamodb, TABLE),
        state=SyncStateStore(dynamodb, TABLE),
        secret=secret,
        sink=ClickHouseRowSink(client),
        batch_rows=500,
        sleep=sleeps.append,
    )
    return SyncHarness(env, client, secrets, sleeps)


def watermarks(harness: SyncHarness, provider: str) -> dict[str, tuple[Any, ...]]:
    """Where each stream stands (watermark, position inside a pass, rows), not how it last ended."""
    return {
        name: (state.watermark, state.position, state.refreshed_at, state.rows)
        for name, state in harness.env.state.load(SITE, provider).items()
    }


class FailingSink:
    """Inserts like the real sink, then raises on the Nth insert: a crash between two batches."""

    def __init__(self, inner: RowSink, fail_on: int, after_insert: bool = True) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.after_insert = after_insert
        self.inserts = 0

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        self.inserts += 1
        if self.inserts == self.fail_on and not self.after_insert:
            raise ConnectionError("ClickHouse went away")
        self.inner.insert_rows(table, json_rows, dedup_token)
        if self.inserts == self.fail_on:
            raise ConnectionError("the process died right after this insert")
