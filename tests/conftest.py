"""Shared fixtures: moto-backed AWS, the embedded ClickHouse, and the real Lambda handlers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import LambdaContextStub, fresh_warehouse, moto_stack


@pytest.fixture
def lambda_context() -> LambdaContextStub:
    return LambdaContextStub()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """`moto_stack` for one test."""
    with moto_stack(monkeypatch) as env:
        yield env


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chdb allows one engine directory per process, so the whole session shares one."""
    return tmp_path_factory.mktemp("clickhouse")


@pytest.fixture
def warehouse_url(chdb_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, migrated database per test."""
    return fresh_warehouse(chdb_path, monkeypatch)
