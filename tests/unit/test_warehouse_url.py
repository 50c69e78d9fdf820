"""A server URL's query string becomes ClickHouse settings (how a cluster's read settings travel)."""

from __future__ import annotations

from typing import Any

import pytest

from touchline.warehouse import client as warehouse_client


class _Recorded:
    database = ""

    def command(self, statement: str) -> None:
        raise AssertionError(f"no command expected: {statement}")


def test_url_query_is_passed_as_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def get_client(**kwargs: Any) -> _Recorded:
        seen.update(kwargs)
        return _Recorded()

    monkeypatch.setattr(warehouse_client.clickhouse_connect, "get_client", get_client)
    warehouse_client.connect(
        "https://u:p%40ss@ch-node-1:8443/touchline?prefer_global_in_and_join=1&max_threads=4",
        max_insert_threads=2,
    )
    assert seen["host"] == "ch-node-1" and seen["port"] == 8443 and seen["database"] == "touchline"
    assert seen["password"] == "p@ss"
    assert seen["settings"] == {
        "insert_distributed_sync": 1,
        "prefer_global_in_and_join": "1",
        "max_threads": "4",
        "max_insert_threads": 2,
    }


def test_inserts_through_distributed_tables_are_synchronous_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        warehouse_client.clickhouse_connect, "get_client", lambda **kw: seen.update(kw) or _Recorded()
    )
    warehouse_client.connect("https://ch:8443/touchline")
    assert seen["settings"] == {"insert_distributed_sync": 1}
    warehouse_client.connect("https://ch:8443/touchline?insert_distributed_sync=0")
    assert seen["settings"] == {"insert_distributed_sync": "0"}  # the URL may say otherwise
