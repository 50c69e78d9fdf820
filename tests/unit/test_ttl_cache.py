"""`TtlCache`: concurrent misses of one key load it once (the local stack's shared containers)."""

from __future__ import annotations

import threading
import time

import pytest

from touchline.ttl_cache import TtlCache


def test_concurrent_misses_load_once_and_all_get_the_value() -> None:
    clock_calls = 0
    now = 100.0

    def clock() -> float:
        nonlocal clock_calls
        clock_calls += 1
        return now

    cache: TtlCache[str, str] = TtlCache(60.0, clock=clock)
    go = threading.Event()
    loads: list[list[str]] = []

    def load_many(keys: list[str]) -> dict[str, str | None]:
        loads.append(keys)
        go.wait()
        return {k: k.upper() for k in keys if k != "unknown"}

    answers: list[dict[str, str | None]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get_many(["a", "unknown"], load_many)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while clock_calls < 8 and time.monotonic() < deadline:  # every caller has looked at the cache
        time.sleep(0.001)
    go.set()
    for thread in threads:
        thread.join()
    assert loads == [["a", "unknown"]]
    assert answers == [{"a": "A", "unknown": None}] * 8


def test_a_failed_load_is_not_cached_and_the_next_caller_loads() -> None:
    cache: TtlCache[str, int] = TtlCache(60.0)

    def fail(key: str) -> int:
        raise ValueError(key)

    with pytest.raises(ValueError):
        cache.get("k", fail)
    assert cache.get("k", lambda _: 5) == 5
    assert cache.get("k", fail) == 5


def test_a_zero_ttl_loads_every_time() -> None:
    cache: TtlCache[str, int] = TtlCache(0.0, 0.0)
    loads: list[str] = []
    assert cache.get("k", lambda k: loads.append(k) or 1) == 1
    assert cache.get("k", lambda k: loads.append(k) or 2) == 2
    assert loads == ["k", "k"]
