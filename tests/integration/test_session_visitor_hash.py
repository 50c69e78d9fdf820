"""`sessions.visitor_hash` (migration 0060): the visitor id's hash the query API counts by.

Sessions stored before the migration get it written into their parts, not only computed when
read; rows written since, by the aggregation (which may not name the column), carry it too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from touchline.warehouse import migrate as migrations
from touchline.warehouse.client import connect


def _hash_matches(client: Any) -> tuple[int, int]:
    [(rows, equal)] = client.query(
        "SELECT count(), countIf(visitor_hash = cityHash64(visitor_id)) FROM sessions"
    ).result_rows
    return int(rows), int(equal)


def test_sessions_before_the_migration_get_their_hash_stored(
    chdb_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = connect(f"chdb://{chdb_path}?database=vh_{uuid.uuid4().hex[:12]}")
    every = migrations.available_migrations()
    before = [m for m in every if m.version < 60]
    monkeypatch.setattr(migrations, "available_migrations", lambda: before)
    migrations.migrate(client)
    client.insert(
        "sessions",
        # Recent: an old session_start would be past the retention TTL.
        [["site0000000000001", f"visitor-{i}", f"session-{i}", datetime.now(UTC)] for i in range(50)],
        column_names=["site_id", "visitor_id", "session_id", "session_start"],
    )
    monkeypatch.setattr(migrations, "available_migrations", lambda: every)
    assert "0060_session_visitor_hash" in migrations.migrate(client)
    assert _hash_matches(client) == (50, 50)
    stored = client.query(
        "SELECT count() FROM system.parts_columns WHERE database = currentDatabase() "
        "AND table = 'sessions' AND active AND column = 'visitor_hash'"
    ).result_rows
    assert stored == [(1,)]
    # The aggregation writes sessions naming only the columns a row is written with.
    from touchline.aggregate.staging import table_columns
    from touchline.warehouse.sql import ClientSql

    assert "visitor_hash" not in table_columns(ClientSql(client), "sessions")
    assert "hit_list" in table_columns(ClientSql(client), "sessions")
