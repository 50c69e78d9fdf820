"""SQL text with bound parameters: every user value becomes `{pN:Type}`, never a literal.

The engine writes SQL only from closed lists (the registry's column expressions, operators and
functions); anything that came from a request (site id, dates, filter values, property keys,
regular expressions, the time zone) goes through `Params.add`, which returns a placeholder for
ClickHouse's server-side binding (`{name:Type}`, sent as `param_name` by clickhouse-connect).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

Rows = list[tuple[Any, ...]]


class Warehouse(Protocol):
    """Runs one SELECT with bound parameters: column names and rows."""

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], Rows]: ...


class ClientWarehouse:
    """`Warehouse` over a clickhouse-connect client (HTTP server, Cloud, or embedded chdb).

    `max_threads`, when given, is asked before each statement for the threads it may use
    (`PooledWarehouse.thread_share`); None leaves the server's default."""

    def __init__(
        self,
        client: Any,
        settings: dict[str, Any] | None = None,
        max_threads: Callable[[], int | None] | None = None,
    ) -> None:
        self._client = client
        self._settings = settings or {}
        self._max_threads = max_threads

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], Rows]:
        settings = self._settings
        threads = self._max_threads() if self._max_threads is not None else None
        if threads is not None:
            settings = {**settings, "max_threads": threads}
        result = self._client.query(sql, parameters=parameters, settings=settings or None)
        return list(result.column_names), [tuple(row) for row in result.result_rows]


class PooledWarehouse:
    """`Warehouse` over up to `size` warehouses made on demand (each a clickhouse-connect
    client), so the statements of concurrent callers run at once: one client runs one statement
    at a time (the HTTP client's session is locked while a query runs; the embedded engine's
    handle takes a lock), and a batch's queries, or the local stack's parallel requests, would
    otherwise queue behind each other. The embedded engine allows several handles to its one
    directory in a process, and runs their statements in parallel.

    `cores`: the cores the statements share, when they are this machine's (the embedded engine
    runs in this process); `thread_share` then divides them between the statements running."""

    def __init__(self, make: Callable[[], Warehouse], size: int = 4, cores: int | None = None) -> None:
        self._make = make
        self._size = max(1, size)
        self._cores = cores
        self._idle: list[Warehouse] = []
        self._made = 0
        self._running = 0
        self._free = threading.Condition()

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], Rows]:
        warehouse = self._take()
        with self._free:
            self._running += 1
        try:
            return warehouse.select(sql, parameters)
        finally:
            with self._free:
                self._running -= 1
                self._idle.append(warehouse)
                self._free.notify()

    def thread_share(self) -> int | None:
        """Threads for a statement starting now: the cores divided by the statements running
        (itself included), at least one; None without `cores`. Each statement otherwise takes
        every core (ClickHouse's `max_threads` default), so a batch's four oversubscribe two
        cores and spend more merging per-thread aggregation states: one thread each made a
        dashboard round 0.89-0.94x as long on two cores (docs/query-api.md)."""
        if self._cores is None:
            return None
        with self._free:
            running = max(1, self._running)
        return max(1, self._cores // running)

    def _take(self) -> Warehouse:
        with self._free:
            while not self._idle and self._made >= self._size:
                self._free.wait()
            if self._idle:
                return self._idle.pop()
            self._made += 1
        try:
            return self._make()
        except BaseException:
            with self._free:
                self._made -= 1
                self._free.notify()
            raise


class CallableWarehouse:
    """`Warehouse` over a function (the CLI's: through a running local stack, or direct)."""

    def __init__(self, run: Callable[[str, dict[str, Any]], tuple[list[str], list[Any]]]) -> None:
        self._run = run

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], Rows]:
        columns, rows = self._run(sql, parameters)
        return list(columns), [tuple(row) for row in rows]


class Params:
    """Collects the bound parameters of one statement."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._by_value: dict[tuple[str, str], str] = {}

    def add(self, value: Any, type_: str) -> str:
        """A placeholder for `value` typed `type_` (e.g. `String`, `Array(String)`, `UInt64`)."""
        key = (type_, repr(value))
        name = self._by_value.get(key)
        if name is None:
            name = f"p{len(self.values)}"
            self.values[name] = value
            self._by_value[key] = name
        return "{" + name + ":" + type_ + "}"

    def string(self, value: str) -> str:
        return self.add(value, "String")

    def strings(self, values: list[str]) -> str:
        return self.add(list(values), "Array(String)")
