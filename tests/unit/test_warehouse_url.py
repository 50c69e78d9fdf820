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
        insert_distributed_sync=1,
    )
    assert seen["host"] == "ch-node-1" and seen["port"] == 8443 and seen["database"] == "touchline"
    assert seen["password"] == "p@ss"
    assert seen["settings"] == {
        "prefer_global_in_and_join": "1",
        "max_threads": "4",
        "insert_distributed_sync": 1,
    }


def test_a_url_without_a_query_sends_no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        warehouse_client.clickhouse_connect, "get_client", lambda **kw: seen.update(kw) or _Recorded()
    )
    warehouse_client.connect("https://ch:8443/touchline")
    assert seen["settings"] is None
