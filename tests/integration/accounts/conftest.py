"""The accounts world (tests/accounts_world.py), once for the package: building it invites a dozen
people and loads three handlers. Tests make fresh resources for what they change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accounts_world import World, make_world


@pytest.fixture(scope="package")
def world(chdb_path: Path) -> Iterator[World]:
    with make_world(chdb_path) as built:
        yield built
