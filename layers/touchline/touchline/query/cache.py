"""A result cache that cannot serve a result computed before data it should include had landed.

Results are keyed on the compiled statement (SQL and bound values: the site, its time zone and
goals, the resolved date range) **and the data version**: a digest of the active parts of the
tables the engine reads (`system.parts`: per table and partition, the highest block number,
the number of parts and rows, the newest part). Every insert creates a part with a higher block
number, and every mutation or merge changes the part list, so any write the result could depend
on changes the key; a time-to-live alone could serve stale numbers for its whole lifetime. The
version is read before the result is computed, so a write that lands meanwhile can only make the
entry stale under an old key that is never asked for again.

On a self-managed cluster (`touchline migrate --cluster`) the tables the engine reads are
`Distributed` and own no parts: their rows live in `<table>_local` on every shard, and the
connected server's `system.parts` sees only its own shard's. No digest it can compute covers
writes on the other shards, so there the version is `None` and the engine does not cache
(reading every replica's parts with `clusterAllReplicas` would allow it; not done yet).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from touchline.query.sql import Warehouse

WAREHOUSE_TABLES = (
    "events",
    "sessions",
    "attribution_credits",
    "orders",
    "refunds",
    "identity_links",
    # data-driven fits and the journeys that attribution variants are credited from
    "journeys",
    "attribution_fits",
)

VERSION_SQL = """
SELECT table, partition_id, max(max_block_number), count(), sum(rows), max(modification_time),
       max(data_version)
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
GROUP BY table, partition_id
ORDER BY table, partition_id
"""


DISTRIBUTED_SQL = """
SELECT count() FROM system.tables
WHERE database = currentDatabase() AND name IN {tables:Array(String)} AND engine = 'Distributed'
"""


class DataVersion:
    """The warehouse's data version (a digest of its active parts) and when the events last changed."""

    def __init__(self, warehouse: Warehouse, tables: tuple[str, ...] = WAREHOUSE_TABLES) -> None:
        self._warehouse = warehouse
        self._tables = list(tables)
        self._distributed: bool | None = None  # asked once per container: migrations decide it

    def current(self) -> tuple[str | None, Any]:
        """(digest, newest events part time), or (None, None) where no digest can cover every
        write (a cluster's Distributed tables: see the module doc)."""
        if self._distributed is None:
            _, found = self._warehouse.select(DISTRIBUTED_SQL, {"tables": self._tables})
            self._distributed = bool(found and int(found[0][0]))
        if self._distributed:
            return None, None
        _, rows = self._warehouse.select(VERSION_SQL, {"tables": self._tables})
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        events = [r[5] for r in rows if r[0] == "events"]
        return digest, (max(events) if events else None)


class _Read:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: tuple[str | None, Any] = (None, None)
        self.error: BaseException | None = None
        self.followers = 0


class SharedReads:
    """Concurrent requests of one process share a version read that began after each arrived.

    A dashboard round sends ~13 queries at once; on the embedded engine, which runs one
    statement at a time, each read of `system.parts` queued behind the others' queries (2.8 s of
    a 5.7 s uncached query under load, against 2.1 s of execution). Reusing a read already under
    way would break the guarantee above (a write landing after it began would be missed), so a
    request joins only the *next* read, which starts once the current one is done: it still
    began after every request it answers. In Lambda (one request per container) it changes
    nothing.
    """

    def __init__(self, versions: DataVersion) -> None:
        self._versions = versions
        self._lock = threading.Condition()
        self._pending: _Read | None = None  # not begun yet: a new request may join it
        self._running = False

    def current(self) -> tuple[str | None, Any]:
        with self._lock:
            read, leader = (self._pending, False) if self._pending else (_Read(), True)
            if leader:
                self._pending = read
            else:
                read.followers += 1
        if not leader:
            read.done.wait()
            if read.error is not None:
                raise read.error
            return read.result
        with self._lock:
            while self._running:
                self._lock.wait()
            self._pending, self._running = None, True  # from here, arrivals wait for the next read
        try:
            read.result = self._versions.current()
        except BaseException as exc:
            read.error = exc
            raise
        finally:
            with self._lock:
                self._running = False
                self._lock.notify_all()
            read.done.set()
        return read.result


class ResultCache(Protocol):
    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...


class MemoryCache:
    """An LRU of results per Lambda container, each kept at most `ttl_seconds` (memory bound;
    freshness comes from the key). Thread-safe: the local stack serves requests in threads."""

    def __init__(
        self, max_entries: int = 512, ttl_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < self._clock():
                self.misses += 1
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


def cache_key(sql: str, parameters: dict[str, Any], version: str) -> str:
    material = repr((sql, sorted(parameters.items()), version)).encode()
    return hashlib.sha256(material).hexdigest()
