"""Lookups cached per Lambda container, so a hot function rarely calls DynamoDB.

Misses are cached too (a flood of requests for an unknown site or key must not become a flood
of reads), but for less time than hits, so a newly registered site or key works quickly.

Concurrent misses of one key load it once: the first caller loads, the others wait for its
value. A Lambda container runs one invocation at a time, so in AWS nothing changes; where one
process serves many requests at once (the local stack's containers share the layer), every
request arriving while a value expired used to read it again (up to 8 reads of one site a
second under 8 clients).
"""

from __future__ import annotations

import threading
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
        self._lock = threading.Lock()
        self._loading: dict[K, threading.Event] = {}  # keys some caller is loading now

    def get(self, key: K, load: Callable[[K], V | None]) -> V | None:
        """The cached value of `key`, else `load(key)` (None: not found), remembered for a while."""
        cached = self._entries.get(key)  # a hit (every hit but the first) needs no lock
        if cached and cached[0] > self._clock():
            return cached[1]
        return self.get_many([key], lambda keys: {k: load(k) for k in keys})[key]

    def get_many(self, keys: list[K], load_many: Callable[[list[K]], dict[K, V | None]]) -> dict[K, V | None]:
        """`get` for several keys, loading all the uncached ones with one `load_many` call."""
        values: dict[K, V | None] = {}
        pending = list(dict.fromkeys(keys))
        while pending:
            now = self._clock()
            mine: list[K] = []
            theirs: list[threading.Event] = []
            with self._lock:
                for key in pending:
                    cached = self._entries.get(key)
                    if cached and cached[0] > now:
                        values[key] = cached[1]
                    elif (loading := self._loading.get(key)) is not None:
                        theirs.append(loading)
                    else:
                        self._loading[key] = threading.Event()
                        mine.append(key)
            if mine:
                try:
                    loaded = load_many(mine)
                    with self._lock:
                        for key in mine:
                            values[key] = loaded.get(key)
                            self._remember(now, key, values[key])
                finally:
                    with self._lock:
                        done = [self._loading.pop(key) for key in mine]
                    for event in done:
                        event.set()
            for event in theirs:
                event.wait()
            # What others loaded is read from the cache on the next pass; this caller loads it
            # itself if their load failed or the value already expired (a TTL of 0).
            pending = [key for key in pending if key not in values]
        return {key: values[key] for key in keys}

    def _remember(self, now: float, key: K, value: V | None) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (now + (self._ttl if value is not None else self._negative_ttl), value)
