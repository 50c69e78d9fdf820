"""The known sites the query tests (and the sharding tests beside them) read:
`tests/query_world.py` loaded and aggregated once per session, shared across modules; and the
in-process tracking pipeline (`tests/tracking_pipeline.py`) the tracked-table tests share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from types import ModuleType

import pytest
from query_world import DOCS_TODAY, Loaded, World, load_world
from tracking_pipeline import Pipeline, module_warehouse

from helpers import LambdaContextStub

NOW = datetime.combine(DOCS_TODAY, time(12), UTC)


@pytest.fixture(scope="session")
def loaded(chdb_path: Path) -> Iterator[Loaded]:
    yield load_world(chdb_path, World.build(DOCS_TODAY), NOW)


@pytest.fixture(scope="session")
def berlin(chdb_path: Path) -> Iterator[Loaded]:
    """The same kind of traffic on a Europe/Berlin site."""
    yield load_world(
        chdb_path, World.build(DOCS_TODAY, seed=7), NOW, site_id="berlinsite000001", timezone="Europe/Berlin"
    )


@pytest.fixture(scope="module")
def tracking_warehouse(chdb_path: Path) -> Iterator[tuple[ModuleType, str]]:
    """The loader handler and one migrated database for the module (tracking_pipeline)."""
    yield from module_warehouse(chdb_path)


@pytest.fixture
def pipeline(tracking_warehouse: tuple[ModuleType, str], lambda_context: LambdaContextStub) -> Pipeline:
    """The tracking API → loader → warehouse pipeline, with a site of its own per test."""
    return Pipeline(*tracking_warehouse, lambda_context)
