"""A result cache that cannot serve a result computed before data it should include had landed.

Results are keyed on the compiled statement (SQL and bound values: the site, its time zone and
goals, the resolved date range) **and the site's data version**: per table the engine reads, how
many insert blocks and rows have landed for the site and when the last one did (`data_versions`,
migration 0050). A materialized view on each of those tables adds to it inside every INSERT, so
no writer can land data without changing the key, and nothing has to remember to: the loader,
the aggregation's `INSERT … SELECT`, syncs, commerce jobs and ad-hoc SQL alike. Mutations fire no
view; GDPR deletes bump the version themselves (touchline.warehouse.versions). The version is
read before the result is computed, and a view's row lands after its block, so a version that
shows a write is never paired with a result that lacks it.

The probe is one small indexed read (a few rows of one site) instead of a digest of
`system.parts`, and it is per site: a write to one site leaves the others' entries valid. On a
self-managed cluster the views sit on every shard's `<table>_local` and `data_versions` is
Distributed, so the probe sums every shard's writes (docs/query-api.md).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from touchline.query.sql import Warehouse

VERSION_SQL = """
SELECT table_name, sum(writes), sum(rows), max(stored_at)
FROM data_versions
WHERE site_id = {site:String}
GROUP BY table_name
ORDER BY table_name
"""


class DataVersion:
    """A site's data version (a digest of its `data_versions` rows) and when its events last landed."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    def current(self, site_id: str) -> tuple[str, Any]:
        """(digest, when the site's newest events were stored, or None)."""
        _, rows = self._warehouse.select(VERSION_SQL, {"site": site_id})
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        events = [r[3] for r in rows if r[0] == "events"]
        return digest, (events[0] if events else None)


class _Read:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: tuple[str, Any] = ("", None)
        self.error: BaseException | None = None
        self.followers = 0


class SharedReads:
    """Concurrent requests of one process for one site share a version read that began after
    each arrived.

    A dashboard round sent ~13 queries of one site at once; through one client, which runs one
    statement at a time, each version read queued behind the others' queries. Reusing a read
    already under way would break the guarantee above (a write landing after it began would be
    missed), so a request joins only the site's *next* read, which starts once the current one is
    done: it still began after every request it answers. In Lambda (one request per container) it
    changes nothing.
    """

    def __init__(self, versions: DataVersion) -> None:
        self._versions = versions
        self._lock = threading.Condition()
        self._pending: dict[str, _Read] = {}  # per site, not begun yet: a new request may join it
        self._running: set[str] = set()

    def current(self, site_id: str) -> tuple[str, Any]:
        with self._lock:
            pending = self._pending.get(site_id)
            read, leader = (pending, False) if pending else (_Read(), True)
            if leader:
                self._pending[site_id] = read
            else:
                read.followers += 1
        if not leader:
            read.done.wait()
            if read.error is not None:
                raise read.error
            return read.result
        with self._lock:
            while site_id in self._running:
                self._lock.wait()
            # from here, arrivals wait for the next read
            self._pending.pop(site_id, None)
            self._running.add(site_id)
        try:
            read.result = self._versions.current(site_id)
        except BaseException as exc:
            read.error = exc
            raise
        finally:
            with self._lock:
                self._running.discard(site_id)
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
