"""Lookups cached per Lambda container, so a hot function rarely calls DynamoDB.

Misses are cached too (a flood of requests for an unknown site or key must not become a flood
of reads), but for less time than hits, so a newly registered site or key works quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self,
        ttl_seconds: float = 60.0,
        negative_ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._ttl = ttl_seconds
        self._negative_ttl = min(ttl_seconds, 5.0) if negative_ttl_seconds is None else negative_ttl_seconds
        self._clock = clock
        self._max = max_entries
        self._entries: dict[K, tuple[float, V | None]] = {}

    def get(self, key: K, load: Callable[[K], V | None]) -> V | None:
        """The cached value of `key`, else `load(key)` (None: not found), remembered for a while."""
        now = self._clock()
        cached = self._entries.get(key)
        if cached and cached[0] > now:
            return cached[1]
        value = load(key)
        self._remember(now, key, value)
        return value

    def get_many(self, keys: list[K], load_many: Callable[[list[K]], dict[K, V | None]]) -> dict[K, V | None]:
        """`get` for several keys, loading all the uncached ones with one `load_many` call."""
        now = self._clock()
        values: dict[K, V | None] = {}
        missing: list[K] = []
        for key in keys:
            cached = self._entries.get(key)
            if cached and cached[0] > now:
                values[key] = cached[1]
            else:
                missing.append(key)
        if missing:
            loaded = load_many(missing)
            for key in missing:
                values[key] = loaded.get(key)
                self._remember(now, key, values[key])
        return values

    def _remember(self, now: float, key: K, value: V | None) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (now + (self._ttl if value is not None else self._negative_ttl), value)
