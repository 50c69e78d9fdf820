"""PooledWarehouse: concurrent callers' statements run at once, each on a warehouse of its own,
never more warehouses than the pool's size (a batch's queries, the local stack's parallel
requests: one clickhouse-connect client runs one statement at a time)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from touchline.query.sql import PooledWarehouse, Rows


class Held:
    """A warehouse whose statements wait for `meet` (a barrier): only callers that are inside
    `select` at the same time get through."""

    made = 0

    def __init__(self, meet: threading.Barrier) -> None:
        Held.made += 1
        self._meet = meet
        self.busy = threading.Lock()

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], Rows]:
        assert self.busy.acquire(blocking=False), "one statement at a time per warehouse"
        try:
            self._meet.wait()
            return ["x"], [(sql,)]
        finally:
            self.busy.release()


def test_concurrent_statements_run_at_once_on_warehouses_of_their_own() -> None:
    Held.made = 0
    meet = threading.Barrier(3, timeout=10)
    pool = PooledWarehouse(lambda: Held(meet), size=3)
    with ThreadPoolExecutor(3) as callers:
        answers = list(callers.map(lambda n: pool.select(f"SELECT {n}", {}), range(3)))
    assert [rows for _, rows in answers] == [[("SELECT 0",)], [("SELECT 1",)], [("SELECT 2",)]]
    assert Held.made == 3
    # reused afterwards, not made again
    meet.reset()
    alone = PooledWarehouse(lambda: Held(threading.Barrier(1)), size=3)
    for _ in range(3):
        alone.select("SELECT 1", {})
    assert Held.made == 4


def test_no_more_warehouses_than_the_size_and_a_failed_make_frees_its_place() -> None:
    Held.made = 0
    meet = threading.Barrier(3, timeout=1)
    pool = PooledWarehouse(lambda: Held(meet), size=2)
    with ThreadPoolExecutor(3) as callers, pytest.raises(threading.BrokenBarrierError):
        list(callers.map(lambda n: pool.select("SELECT 1", {}), range(3)))
    assert Held.made == 2  # the third caller waited for one of the two

    attempts = []

    def flaky() -> Held:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("ClickHouse is unreachable")
        return Held(threading.Barrier(1))

    single = PooledWarehouse(flaky, size=1)
    with pytest.raises(ConnectionError):
        single.select("SELECT 1", {})
    assert single.select("SELECT 1", {})[1] == [("SELECT 1",)]


class Sharing:
    """A warehouse that asks the pool for its thread share once every caller is inside."""

    def __init__(self, pool: PooledWarehouse, meet: threading.Barrier, shares: list[int | None]) -> None:
        self._pool, self._meet, self._shares = pool, meet, shares

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], Rows]:
        self._meet.wait()
        self._shares.append(self._pool.thread_share())
        self._meet.wait()  # nobody leaves before every share is taken
        return ["x"], []


def test_statements_on_shared_cores_divide_them_and_a_lone_one_takes_them_all() -> None:
    shares: list[int | None] = []
    meet = threading.Barrier(4, timeout=10)
    pool = PooledWarehouse(lambda: Sharing(pool, meet, shares), size=4, cores=2)
    with ThreadPoolExecutor(4) as callers:
        list(callers.map(lambda n: pool.select("SELECT 1", {}), range(4)))
    assert shares == [1, 1, 1, 1]  # four at once on two cores: one thread each

    alone: list[int | None] = []
    single = PooledWarehouse(lambda: Sharing(single, threading.Barrier(1), alone), size=4, cores=2)
    single.select("SELECT 1", {})
    pair = threading.Barrier(2, timeout=10)
    two = PooledWarehouse(lambda: Sharing(two, pair, alone), size=4, cores=4)
    with ThreadPoolExecutor(2) as callers:
        list(callers.map(lambda n: two.select("SELECT 1", {}), range(2)))
    assert alone == [2, 2, 2]  # alone: both cores; two of them on four cores: two each

    server = PooledWarehouse(lambda: Sharing(server, threading.Barrier(1), alone), size=4)
    server.select("SELECT 1", {})
    assert alone[-1] is None  # a server's cores are its own: its default stands


def test_a_client_warehouse_sends_the_share_it_is_given_as_max_threads() -> None:
    from touchline.query.sql import ClientWarehouse

    sent: list[dict[str, Any] | None] = []

    class Client:
        def query(self, sql: str, parameters: dict[str, Any], settings: dict[str, Any] | None) -> Any:
            sent.append(settings)
            return type("Result", (), {"column_names": ["x"], "result_rows": [(1,)]})()

    share: list[int | None] = [3, None]
    warehouse = ClientWarehouse(Client(), {"readonly": 2}, max_threads=lambda: share.pop(0))
    warehouse.select("SELECT 1", {})
    warehouse.select("SELECT 1", {})
    ClientWarehouse(Client(), {"readonly": 2}).select("SELECT 1", {})
    assert sent == [{"readonly": 2, "max_threads": 3}, {"readonly": 2}, {"readonly": 2}]
