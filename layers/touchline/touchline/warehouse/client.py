"""One ClickHouse client from one URL: `https://…` for a server or Cloud, `chdb:///path` embedded.

Both go through clickhouse-connect, so the SQL and the insert path are the same everywhere. Only
this module (and the loader, CLI and reports that use it) imports clickhouse-connect; the collector
must not, to keep its cold start small.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

DEFAULT_DATABASE = "touchline"


class WarehouseUrlError(ValueError):
    """The ClickHouse URL cannot be used."""


def connect(url: str, *, create_database: bool = False, **settings: Any) -> Client:
    """Open a client for `url`; `create_database` makes the target database first (migrations).

    A server URL's query string holds ClickHouse settings for every query of the client, e.g.
    `https://node1:8443/touchline?prefer_global_in_and_join=1` for a cluster (docs/deploy.md)."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        return _connect_embedded(parts.path, dict(parse_qsl(parts.query)), create_database, settings)
    if parts.scheme in ("http", "https"):
        # On a self-managed cluster every INSERT (the loader's, the aggregation's INSERT … SELECT
        # and the tombstones that read right after it) goes through a Distributed table: each
        # shard must have its rows when the insert returns. Harmless on one server and on Cloud.
        settings = {"insert_distributed_sync": 1, **dict(parse_qsl(parts.query)), **settings}
        database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
        client = clickhouse_connect.get_client(
            host=parts.hostname or "localhost",
            port=parts.port or (8443 if parts.scheme == "https" else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            secure=parts.scheme == "https",
            database="default" if create_database else database,
            settings=settings or None,
        )
        if create_database:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            client.database = database
        return client
    raise WarehouseUrlError(
        f"unsupported ClickHouse URL scheme {parts.scheme!r}: use https://… or chdb:///path"
    )


def _connect_embedded(
    path: str, query: dict[str, str], create_database: bool, settings: dict[str, Any]
) -> Client:
    if not path or path == "/":
        raise WarehouseUrlError("a chdb URL needs a directory: chdb:///absolute/path")
    database = query.get("database", DEFAULT_DATABASE)
    client = clickhouse_connect.get_client(dsn=f"chdb://{path}", settings=settings or None)
    # The embedded engine starts with only `default`; every process may be the first one.
    client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    client.database = database
    return client


def database_of(url: str) -> str:
    """The database a URL points at (for messages and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        return dict(parse_qsl(parts.query)).get("database", DEFAULT_DATABASE)
    return unquote(parts.path.strip("/")) or DEFAULT_DATABASE
