"""The known sites the query tests (and the sharding tests beside them) read:
`tests/query_world.py` loaded and aggregated once per session, shared across modules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from query_world import DOCS_TODAY, Loaded, World, load_world

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
