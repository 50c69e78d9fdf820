"""Fixtures for sync tests: moto (config table, Secrets Manager) + the embedded ClickHouse."""

from __future__ import annotations

import pytest

from fakes.harness import SyncHarness, make_harness


@pytest.fixture
def harness(aws: dict[str, str], warehouse_url: str) -> SyncHarness:
    return make_harness(warehouse_url)
