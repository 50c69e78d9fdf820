"""The cluster DDL generated from the migration files, and the Cloud rules the files keep.

No ClickHouse cluster can run here: these tests parse every generated statement with the real
engine (`formatQuery`), check that every table the single-server migrations create gets its
Replicated local table and Distributed table with the documented sharding key, and, in a
subprocess whose embedded engine has an in-memory Keeper (`cluster_emulation.py`), execute the
generated DDL the way each node's DDL worker would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from touchline.warehouse.client import connect
from touchline.warehouse.cluster import ClusterDDLError, ClusterTarget
from touchline.warehouse.migrate import available_migrations, cluster_statements

HERE = Path(__file__).resolve().parent

# ClickHouse Cloud's compatibility guide: the engines it accepts (plain ones become Shared*).
CLOUD_ENGINES = {
    "MergeTree",
    "ReplacingMergeTree",
    "SummingMergeTree",
    "AggregatingMergeTree",
    "CollapsingMergeTree",
    "VersionedCollapsingMergeTree",
}


def _all_cluster_statements(target: ClusterTarget) -> list[str]:
    return [s for m in available_migrations() for s in cluster_statements(m, target)]


def _target(shards_by: str = "site_id") -> ClusterTarget:
    return ClusterTarget("tl", "touchline", shards_by)  # type: ignore[arg-type]


def test_every_generated_statement_parses(chdb_path: Path) -> None:
    client = connect(f"chdb://{chdb_path}?database=cluster_parse")  # parsing needs no tables
    for shards_by in ("site_id", "visitor"):
        target = _target(shards_by)
        statements = [target.create_database(), target.history_table(), *_all_cluster_statements(target)]
        for statement in statements:
            formatted = client.command("SELECT formatQuery(%(q)s)", parameters={"q": statement})
            assert isinstance(formatted, str) and "ON CLUSTER tl" in formatted, statement


def test_every_table_gets_a_replicated_local_and_a_distributed_table(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    single = {
        str(name)
        for (name,) in client.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND name != 'schema_migrations' AND engine NOT IN ('MaterializedView', 'View')"
        ).result_rows
    }
    views = {
        str(name)
        for (name,) in client.query(
            "SELECT name FROM system.tables "
            "WHERE database = currentDatabase() AND engine = 'MaterializedView'"
        ).result_rows
    }
    statements = _all_cluster_statements(_target("visitor"))
    distributed = {
        m[1]: m[2]
        for s in statements
        if (
            m := re.match(
                r"CREATE TABLE IF NOT EXISTS (\w+) ON CLUSTER `tl` AS \w+\n"
                r"ENGINE = Distributed\(`tl`, `touchline`, \w+, (.*)\)$",
                s,
            )
        )
    }
    local = {
        m[1]: m[2]
        for s in statements
        if (
            m := re.match(
                r"CREATE TABLE IF NOT EXISTS (\w+)_local ON CLUSTER `tl`\n.*"
                r"ENGINE = (Replicated\w+)\('/clickhouse/tables/\{shard\}/\{database\}/\w+_local', "
                r"'\{replica\}'",
                s,
                re.DOTALL,
            )
        )
    }
    assert set(distributed) == single == set(local)
    assert len(single) >= 20
    assert {t for t, key in distributed.items() if key == "cityHash64(site_id, visitor_id)"} == {
        "events",
        "sessions",
    }
    assert distributed.pop("audit_log") == "cityHash64(org_id)"  # an organisation's, not a site's
    assert {key for t, key in distributed.items() if t not in ("events", "sessions")} == {
        "cityHash64(site_id)"
    }
    # The data-version views watch each node's local tables and write its local data_versions.
    created = {
        m[1]: (m[2], m[3])
        for s in statements
        if (
            m := re.match(
                r"CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) ON CLUSTER `tl` TO (\w+)\n.*FROM (\w+) ",
                s,
                re.DOTALL,
            )
        )
    }
    assert set(created) == views and len(views) >= 17
    assert {target for target, _ in created.values()} == {"data_versions_local"}
    assert all(
        source == f"{view.removesuffix('_data_version')}_local" for view, (_, source) in created.items()
    )
    # A plain view (shopping_carts) stores nothing: created on every node over the Distributed tables.
    plain = [
        s for s in statements if s.startswith("CREATE VIEW IF NOT EXISTS shopping_carts ON CLUSTER `tl` AS")
    ]
    assert len(plain) == 1 and "FROM cart_events FINAL" in plain[0]
    site_sharded = _all_cluster_statements(_target("site_id"))
    assert all("visitor_id)" not in s for s in site_sharded if "Distributed(" in s)


def test_column_changes_reach_both_tables_and_mutations_only_the_local_one() -> None:
    target = _target()
    out = target.rewrite(
        "ALTER TABLE events ADD COLUMN IF NOT EXISTS x String DEFAULT concat('a', 'b'), "
        "MATERIALIZE COLUMN x SETTINGS mutations_sync = 2",
        "0099_x",
    )
    assert out == [
        "ALTER TABLE events_local ON CLUSTER `tl` ADD COLUMN IF NOT EXISTS x String DEFAULT "
        "concat('a', 'b'), MATERIALIZE COLUMN x SETTINGS mutations_sync = 2",
        "ALTER TABLE events ON CLUSTER `tl` ADD COLUMN IF NOT EXISTS x String DEFAULT concat('a', 'b')",
    ]
    assert target.rewrite("ALTER TABLE orders MODIFY TTL toDateTime(ordered_at) + INTERVAL 1 DAY") == [
        "ALTER TABLE orders_local ON CLUSTER `tl` MODIFY TTL toDateTime(ordered_at) + INTERVAL 1 DAY"
    ]
    assert target.rewrite("DROP TABLE IF EXISTS old") == [
        "DROP TABLE IF EXISTS old ON CLUSTER `tl` SYNC",
        "DROP TABLE IF EXISTS old_local ON CLUSTER `tl` SYNC",
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE MATERIALIZED VIEW mv TO x AS SELECT 1",  # no IF NOT EXISTS
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO x AS SELECT 1",  # reads no table
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO x AS SELECT a FROM t JOIN u USING (a)",
        "CREATE TABLE t (site_id String) ENGINE = MergeTree ORDER BY site_id",  # no IF NOT EXISTS
        "CREATE TABLE IF NOT EXISTS t (a String) ENGINE = MergeTree ORDER BY a",  # no site_id
        "ALTER TABLE events FREEZE",
        "INSERT INTO events SELECT * FROM events",
        "CREATE VIEW v AS SELECT 1",  # no IF NOT EXISTS
    ],
)
def test_a_statement_without_a_cluster_form_is_refused(statement: str) -> None:
    with pytest.raises(ClusterDDLError, match="0099_x"):
        _target().rewrite(statement, "0099_x")


def test_names_that_could_break_the_ddl_are_refused() -> None:
    for cluster, database in (("a b", "touchline"), ("tl", "x`; DROP"), ("tl", "")):
        with pytest.raises(ClusterDDLError):
            ClusterTarget(cluster, database)


def test_migration_files_keep_to_what_clickhouse_cloud_accepts() -> None:
    """The rules of Cloud's compatibility guide and SharedMergeTree page (docs/deploy.md)."""
    for migration in available_migrations():
        for statement in migration.statements(730):
            where = f"{migration.version:04d}_{migration.name}: {statement[:60]}"
            assert "ON CLUSTER" not in statement.upper(), where  # not needed, fails with macros
            assert not re.search(r"\{\w+\}", statement), where  # no {shard}/{cluster} macros
            assert "allow_experimental" not in statement, where  # experimental features are off
            # no CREATE TABLE … AS SELECT; a materialized view writes TO a table of its own
            assert not re.search(r"^CREATE\s+TABLE\b.*\bAS\s+SELECT\b", statement, re.I | re.S), where
            if statement.upper().startswith("CREATE MATERIALIZED VIEW"):
                assert re.match(r"CREATE MATERIALIZED VIEW IF NOT EXISTS \w+ TO \w+\s", statement), where
            for engine in re.findall(r"ENGINE\s*=\s*(\w+)", statement):
                assert engine in CLOUD_ENGINES, where  # Replicated* / Shared* are Cloud's to choose


def test_the_generated_ddl_runs_on_a_keeper_backed_engine(tmp_path: Path) -> None:
    """Two nodes (one per shard) in a subprocess: chdb allows one engine configuration per process."""
    done = subprocess.run(
        [sys.executable, str(HERE / "cluster_emulation.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("{"), done.stderr[-3000:]
    report = json.loads(lines[-1])
    migrations = [f"{m.version:04d}_{m.name}" for m in available_migrations()]
    for node in ("k1", "k2"):  # real Replicated*MergeTree tables on the in-memory Keeper
        engines = report["keeper_engines"][node]
        assert engines["schema_migrations"] == "ReplicatedMergeTree"
        assert engines["events_local"] == "ReplicatedReplacingMergeTree"
        views = [name for name, engine in engines.items() if engine == "MaterializedView"]
        assert len(views) >= 17  # the data-version views, on the Replicated local tables
        plain_views = [name for name, engine in engines.items() if engine == "View"]
        assert plain_views == ["shopping_carts"]  # over the Distributed tables, on every node
        tables = [
            name
            for name in engines
            if not name.endswith("_local")
            and name != "schema_migrations"
            and name not in views
            and name not in plain_views
        ]
        assert len(tables) >= 20
        for name in tables:
            assert engines[name] == "Distributed", name
            assert engines[f"{name}_local"].startswith("Replicated"), name
    assert report["sharding_key"] == "cityHash64(site_id)"
    # A single-server `migrate` on a cluster's database is refused, not half-applied.
    assert report["refused_single_server_migrate"] is True
    # A replicated table accepts the single-server migration's setting (as Cloud's Shared* do).
    assert report["replicated_accepts_non_replicated_window"] is True
    # The whole migration with every ALTER, through migrate(…, cluster=…), then a no-op re-run.
    assert report["applied"] == migrations
    assert report["second_run"] == []
    for node in ("s1", "s2"):
        # every Distributed table still has its local table's columns and DEFAULTs
        assert report["columns_match"][node] and all(report["columns_match"][node].values())
    # A GDPR delete mutates the local tables on every node, never the Distributed table.
    targets = report["gdpr_targets"]
    assert targets["events"] == "events_local ON CLUSTER `tl`"
    assert targets["orders"] == "orders_local ON CLUSTER `tl`"
    assert not [name for name in targets if name.endswith("_local")]


def test_migrate_print_shows_the_cluster_ddl_without_connecting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from touchline_dev.cli.main import main

    # No server listens there: --print must not connect.
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", "https://user:pw@127.0.0.1:1/analytics")
    assert main(["migrate", "--cluster", "tl", "--shards-by", "visitor", "--print"]) == 0
    out = capsys.readouterr().out
    assert "-- 0001_events" in out
    assert "CREATE TABLE IF NOT EXISTS events ON CLUSTER `tl` AS events_local\n" in out
    assert "Distributed(`tl`, `analytics`, events_local, cityHash64(site_id, visitor_id));" in out
    assert main(["migrate", "--shards-by", "visitor", "--print"]) == 2
    assert "need --cluster" in capsys.readouterr().err
