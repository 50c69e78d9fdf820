"""Where CLI commands find things: the data dir, the warehouse, the config table.

Locally everything lives under the data dir (`--data-dir`, `TOUCHLINE_DATA_DIR`, default
`.touchline`). Setting `TOUCHLINE_CLICKHOUSE_URL` / `TOUCHLINE_CONFIG_TABLE` points the same
commands at a real ClickHouse and the deployed DynamoDB table instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchline_dev.cli.errors import CliError

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

    from touchline.config.sites import Site
    from touchline_dev.devstack.state import StackInfo

DEFAULT_DATA_DIR = ".touchline"


def data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("TOUCHLINE_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def warehouse_url(directory: Path) -> str:
    if url := os.environ.get("TOUCHLINE_CLICKHOUSE_URL"):
        return url
    from touchline_dev.devstack.state import clickhouse_url

    return clickhouse_url(directory)


def running_stack(directory: Path) -> StackInfo | None:
    """The local stack on this data dir, unless the CLI is pointed at a ClickHouse server."""
    if os.environ.get("TOUCHLINE_CLICKHOUSE_URL", "").startswith(("http://", "https://")):
        return None
    from touchline_dev.devstack.state import running_stack as find

    return find(directory)


def refuse_if_stack_running(directory: Path, why: str) -> None:
    if running_stack(directory) is not None:
        raise CliError(f"a local stack is running on {directory}; {why}")


def warehouse(directory: Path) -> Client:
    """A direct client; fails if a running stack holds the embedded engine (use `query`)."""
    from touchline.warehouse.client import connect

    refuse_if_stack_running(directory, "stop it, or use a command that goes through it")
    return connect(warehouse_url(directory))


Querier = Callable[[str, Mapping[str, Any] | None], tuple[list[str], list[list[Any]]]]


def querier(directory: Path) -> Querier:
    """A function running queries with server-side `params`: through the running stack (chdb locks
    its directory) or directly, on one client for all of a command's queries (a report asks
    several; an embedded client takes a while to open)."""
    stack = running_stack(directory)
    if stack is not None:
        from touchline_dev.devstack.state import query_stack

        def through_stack(
            sql: str, params: Mapping[str, Any] | None = None
        ) -> tuple[list[str], list[list[Any]]]:
            try:
                payload = query_stack(stack, sql, "json", params)
            except RuntimeError as exc:
                raise CliError(f"query failed: {exc}") from None
            return list(payload["columns"]), [list(row) for row in payload["rows"]]

        return through_stack
    clients: list[Client] = []

    def direct(sql: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
        if not clients:
            clients.append(warehouse(directory))
        result = clients[0].query(sql, parameters=dict(params or {}))
        return list(result.column_names), [list(row) for row in result.result_rows]

    return direct


def query(
    directory: Path, sql: str, params: Mapping[str, Any] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Run one query with server-side `params` (`querier` for several)."""
    return querier(directory)(sql, params)


@contextmanager
def config_table(directory: Path) -> Iterator[tuple[DynamoDBClient, str]]:
    """The deployed table when TOUCHLINE_CONFIG_TABLE is set, else the local stack's (moto)."""
    deployed = os.environ.get("TOUCHLINE_CONFIG_TABLE")
    if deployed:
        import boto3

        yield boto3.client("dynamodb"), deployed
        return
    from touchline_dev.devstack.state import local_aws

    with local_aws(directory) as aws:
        yield aws.client("dynamodb"), aws.table_name("ConfigTable")


@contextmanager
def config_and_secrets(directory: Path) -> Iterator[tuple[DynamoDBClient, str, SecretsManagerClient]]:
    """`config_table` plus Secrets Manager: deployed with TOUCHLINE_CONFIG_TABLE, else local (moto,
    saved to the data dir's `secrets.json` like the tables)."""
    deployed = os.environ.get("TOUCHLINE_CONFIG_TABLE")
    if deployed:
        import boto3

        yield boto3.client("dynamodb"), deployed, boto3.client("secretsmanager")
        return
    from touchline_dev.devstack.state import local_aws

    with local_aws(directory) as aws:
        yield aws.client("dynamodb"), aws.table_name("ConfigTable"), aws.client("secretsmanager")


def require_site(dynamodb: DynamoDBClient, table: str, site: str) -> Site:
    """The registered site whose id or domain is `site`, or the error every command gives for an
    unknown one (a report on an unknown site would print zeros and look like a quiet site)."""
    from touchline.config.sites import SiteStore

    found = SiteStore(dynamodb, table).resolve(site)
    if found is None:
        raise CliError(
            f"no site {site!r} (neither a site id nor a registered domain): `touchline sites list` "
            "shows the registered ones, `touchline sites add DOMAIN` registers one"
        )
    return found


def resolve_site_argument(args: Any) -> None:
    """Every command's `site` (`--site S` or a positional SITE) may be an id or a domain: replace
    it by the id, or stop with `require_site`'s error. Commands without one are left alone."""
    site = getattr(args, "site", None)
    if not site:
        return
    with config_table(data_dir(getattr(args, "data_dir", None))) as (dynamodb, table):
        args.site = require_site(dynamodb, table, site).site_id
