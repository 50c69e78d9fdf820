"""The query cache's data version covers every table the engine reads.

A table the engine reads without a `<table>_data_version` view in migration 0050 would let the
cache answer from before that table's writes (as the commerce views and devices once could,
when the version was a digest of a fixed table list). The engine's SQL is read from its source:
every `FROM`/`JOIN` of a migrated table, and every migrated table's name in a string, in
`touchline.query` and the credits it computes on demand (`touchline.datadriven.credits`) must be
versioned.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import touchline
from touchline.query.cache import VERSION_SQL, DataVersion, SharedReads
from touchline.warehouse.migrate import available_migrations
from touchline.warehouse.versions import VERSIONED_TABLES

PACKAGE = Path(touchline.__file__).resolve().parent
ENGINE_SOURCES = [*sorted((PACKAGE / "query").rglob("*.py")), PACKAGE / "datadriven" / "credits.py"]


def _migrated_tables() -> set[str]:
    text = "\n".join(m.sql for m in available_migrations())
    return set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", text)) - {"data_versions"}


def _views() -> dict[str, str]:
    """view name -> the table it watches, from the migrations."""
    text = "\n".join(m.sql for m in available_migrations())
    found = re.findall(
        r"CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO data_versions\s.*?FROM (\w+)", text, re.S
    )
    return dict(found)


# Strings that name a migrated table but are not read as one: the registry's `products` view reads
# `products_master` (the synced `products` table is not the engine's).
NOT_TABLES = {"products"}


def test_every_table_the_engine_reads_is_versioned() -> None:
    tables = _migrated_tables()
    read = set()
    for source in ENGINE_SOURCES:
        text = source.read_text()
        # `FROM t` / `JOIN t` in SQL text, and table names passed as strings (`FROM {self.table}`)
        for name in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", text) + re.findall(r"[\"'](\w+)[\"']", text):
            if name in tables:
                read.add(name)
        assert not re.search(r"\b(?:FROM|JOIN)\s+products\b", text), source
    read -= NOT_TABLES
    assert read >= {"events", "sessions", "attribution_credits", "orders", "customer_profiles", "devices"}
    assert read <= set(VERSIONED_TABLES), read - set(VERSIONED_TABLES)


def test_every_versioned_table_has_its_view() -> None:
    views = _views()
    assert sorted(views.values()) == sorted(VERSIONED_TABLES)
    assert all(view == f"{table}_data_version" for view, table in views.items())
    # each view names its own table in the version rows
    text = "\n".join(m.sql for m in available_migrations())
    for table in VERSIONED_TABLES:
        assert f"'{table}' AS table_name" in text


class SlowVersions:
    """`data_versions` read by read: the first read blocks until released; each read's digest is
    its number, so a caller can tell which read answered it."""

    def __init__(self) -> None:
        self.reads = 0
        self.first_begun = threading.Event()
        self.release_first = threading.Event()

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        assert sql == VERSION_SQL
        self.reads += 1
        number = self.reads
        if number == 1:
            self.first_begun.set()
            self.release_first.wait(10)
        return [], [("events", number, 10, datetime(2026, 11, 1, tzinfo=UTC))]


def test_concurrent_requests_share_the_next_version_read_never_one_begun_before_them() -> None:
    versions = SlowVersions()
    shared = SharedReads(DataVersion(versions))
    answers: dict[str, Any] = {}

    def ask(name: str) -> None:
        answers[name] = shared.current("s1")

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert versions.first_begun.wait(10)
    # Five requests arrive while the first read is under way: a write may have landed after it
    # began, so none of them may take its answer; they share one read that begins after it.
    later = [threading.Thread(target=ask, args=(f"later{i}",)) for i in range(5)]
    for thread in later:
        thread.start()
    deadline = time.monotonic() + 10
    while not ("s1" in shared._pending and shared._pending["s1"].followers == 4):  # all five in
        assert time.monotonic() < deadline
        time.sleep(0.01)
    versions.release_first.set()
    for thread in [first, *later]:
        thread.join(10)
    assert versions.reads == 2
    assert len({answers[f"later{i}"] for i in range(5)}) == 1
    assert answers["later0"] != answers["first"]
    assert shared.current("s1") != answers["later0"]  # alone, a request reads for itself
    assert versions.reads == 3
