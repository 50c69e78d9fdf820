"""One ClickHouse client from one URL: `https://…` for a server or Cloud, `chdb:///path` embedded.

Both go through clickhouse-connect, so the SQL and the insert path are the same everywhere. Only
this module (and the loader, CLI and reports that use it) imports clickhouse-connect; the collector
must not, to keep its cold start small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import NotSupportedError

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
    _stream_inserts(client)
    return client


def _stream_inserts(client: Client) -> bool:
    """Send the embedded engine a column insert's Native bytes in memory (chdb's `send_insert`),
    not through a file.

    clickhouse-connect's chdb transport writes each insert's Native block to a temporary file and
    runs `INSERT … FROM INFILE` on it: per batch a file created, ~1 MB written, read back by the
    engine and unlinked (on the loader's 4,993-event batches 0.4 to 0.9 µs/event of the engine's
    ~4, docs/performance.md, "Sixth pass"). The statement, its settings (the dedup token among
    them), the bytes and the errors are the same; only the way in differs. Installed only where
    this clickhouse-connect's backend and this chdb have what it needs, else the insert stays on
    the file; returns whether it was installed (a test holds it to True for the pinned versions)."""
    backend: Any = getattr(client, "_backend", None)
    handle: Any = getattr(backend, "_handle", None)
    if not all(
        callable(getattr(backend, name, None))
        for name in ("_guard", "_guard_locked", "_use_database_locked", "_engine_settings", "_wrap_exception")
    ) or not callable(getattr(getattr(handle, "conn", None), "send_insert", None)):
        return False
    from clickhouse_connect.driver._backend import chdb_backend

    settings_clause: Callable[[dict[str, str]], str] | None = getattr(chdb_backend, "_settings_clause", None)
    if settings_clause is None:
        return False
    from clickhouse_connect.driver.binding import quote_identifier

    def _engine(call: Callable[..., Any], *args: Any) -> Any:
        """One chdb call; its errors as the file path reports them (`Code: N` in a DatabaseError)."""
        try:
            return call(*args)
        except Exception as exc:
            raise backend._wrap_exception(exc) from exc

    def execute_data_insert(
        context: Any, runtime: Any, body: Iterable[bytes], retry_body: Any
    ) -> dict[str, Any]:
        if isinstance(context.compression, str):
            raise NotSupportedError("Insert compression is not supported by the chdb backend")
        cols = ", ".join(quote_identifier(name) for name in context.column_names)
        # clickhouse-connect puts the HTTP request's statement before the first block's bytes
        body_prefix = f"INSERT INTO {context.table} ({cols}) FORMAT Native\n".encode()
        settings = backend._engine_settings(runtime.settings)
        clause = f" SETTINGS {settings_clause(settings)}" if settings else ""
        backend._guard()
        with handle.lock:
            backend._guard_locked()
            backend._use_database_locked(runtime.database)
            inserter = _engine(
                handle.conn.send_insert, f"INSERT INTO {context.table} ({cols}){clause}", "Native"
            )
            try:
                first = True
                for chunk in body:
                    if context.insert_exception is not None:
                        # the encoder failed on a value: raised as the file path raises it, unstored
                        refused, context.insert_exception = context.insert_exception, None
                        raise refused
                    if first:
                        first = False
                        if chunk.startswith(body_prefix):
                            chunk = chunk[len(body_prefix) :]
                        elif (newline := chunk.find(b"\n")) >= 0:
                            chunk = chunk[newline + 1 :]
                    _engine(inserter.append, chunk)
                result = _engine(inserter.finish)
            except BaseException:
                inserter.cancel()  # nothing of the batch is stored (a no-op once finished)
                raise
        return {
            "written_rows": str(result.rows_written),
            "written_bytes": str(result.bytes_written),
            "elapsed_ns": str(int(result.elapsed * 1_000_000_000)),
        }

    backend.execute_data_insert = execute_data_insert
    return True


def database_of(url: str) -> str:
    """The database a URL points at (for messages and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        return dict(parse_qsl(parts.query)).get("database", DEFAULT_DATABASE)
    return unquote(parts.path.strip("/")) or DEFAULT_DATABASE
