"""Where CLI commands find things: the data dir, the warehouse, the config table.

Locally everything lives under the data dir (`--data-dir`, `TOUCHLINE_DATA_DIR`, default
`.touchline`). Setting `TOUCHLINE_CLICKHOUSE_URL` / `TOUCHLINE_CONFIG_TABLE` points the same
commands at a real ClickHouse and the deployed DynamoDB table instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

DEFAULT_DATA_DIR = ".touchline"


def data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("TOUCHLINE_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def warehouse_url(directory: Path) -> str:
    if url := os.environ.get("TOUCHLINE_CLICKHOUSE_URL"):
        return url
    from touchline.devstack.state import clickhouse_url

    return clickhouse_url(directory)


def uses_embedded_warehouse() -> bool:
    return not os.environ.get("TOUCHLINE_CLICKHOUSE_URL", "").startswith(("http://", "https://"))


@contextmanager
def config_table(directory: Path) -> Iterator[tuple[DynamoDBClient, str]]:
    """The deployed table when TOUCHLINE_CONFIG_TABLE is set, else the local stack's (moto)."""
    deployed = os.environ.get("TOUCHLINE_CONFIG_TABLE")
    if deployed:
        import boto3

        yield boto3.client("dynamodb"), deployed
        return
    from touchline.devstack.state import local_aws

    with local_aws(directory) as aws:
        yield aws.client("dynamodb"), aws.table_name("ConfigTable")
