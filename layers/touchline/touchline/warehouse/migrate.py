"""Versioned schema migrations: `migrations/NNNN_name.sql`, applied once each, in order.

Applied versions are recorded in `schema_migrations` with the file's checksum, so re-running is a
no-op and an edited, already-applied file is reported instead of silently diverging. Migration
files may use `{retention_days}` (the events retention); every family's retention is re-applied
to existing tables on every run (touchline.warehouse.retention: `MODIFY TTL` only touches
metadata), so changing it needs no new migration.

The same files apply unchanged to ClickHouse Cloud, a single server and the embedded engine
(docs/deploy.md, "ClickHouse Cloud"). For a self-managed cluster, `migrate(…, cluster=…)` rewrites
each statement into `ON CLUSTER` Replicated/Distributed DDL (`touchline.warehouse.cluster`); the
history then lives in a replicated `schema_migrations`, and a database migrated one way refuses to
be migrated the other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from clickhouse_connect.driver.client import Client

from touchline.warehouse.cluster import ClusterTarget
from touchline.warehouse.retention import DEFAULT_EVENTS_DAYS, Retention, apply_retention, as_retention

MIGRATIONS_PACKAGE = "touchline.warehouse.migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """A migration cannot be applied, or the applied history no longer matches the files."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self, retention_days: int) -> list[str]:
        """Split on `;` at line ends; our migration files never put `;` inside literals."""
        body = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        body = body.replace("{retention_days}", str(retention_days))
        return [stmt.strip() for stmt in re.split(r";\s*(?:\n|$)", body) if stmt.strip()]


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return found


def _ensure_history_table(client: Client, cluster: ClusterTarget | None = None) -> None:
    engine = client.command(
        "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'"
    )
    replicated = isinstance(engine, str) and engine.startswith("Replicated")
    if engine and cluster is None and replicated:
        raise MigrationError("this database was migrated with --cluster; pass --cluster again")
    if engine and cluster is not None and not replicated:
        raise MigrationError(
            "this database was migrated without --cluster (plain MergeTree tables); "
            "a cluster needs a new database"
        )
    if cluster is not None:
        database_engine = client.command("SELECT engine FROM system.databases WHERE name = currentDatabase()")
        if database_engine in ("Shared", "Replicated"):
            # ClickHouse Cloud: replication is the service's, and ON CLUSTER with macros fails.
            raise MigrationError(
                f"the database engine is {database_engine} (ClickHouse Cloud): migrate without --cluster"
            )
        client.command(cluster.create_database())
        client.command(cluster.history_table())
        return
    client.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = MergeTree ORDER BY version"
    )


def applied_versions(client: Client, cluster: ClusterTarget | None = None) -> dict[int, str]:
    _ensure_history_table(client, cluster)
    rows = client.query("SELECT version, any(checksum) FROM schema_migrations GROUP BY version").result_rows
    return {int(version): str(checksum) for version, checksum in rows}


def cluster_statements(migration: Migration, cluster: ClusterTarget, retention_days: int = 730) -> list[str]:
    """A migration's statements as `ON CLUSTER` DDL for `cluster` (also `migrate --print`)."""
    label = f"{migration.version:04d}_{migration.name}"
    return [
        rewritten
        for statement in migration.statements(retention_days)
        for rewritten in cluster.rewrite(statement, label)
    ]


def migrate(
    client: Client, retention: Retention | int = DEFAULT_EVENTS_DAYS, cluster: ClusterTarget | None = None
) -> list[str]:
    """Apply pending migrations, then the retention TTLs; return the names applied.

    `retention` as an int is the events retention in days (the others follow it)."""
    retention = as_retention(retention)
    retention_days = retention.events_days
    applied = applied_versions(client, cluster)
    done: list[str] = []
    for migration in available_migrations():
        recorded = applied.get(migration.version)
        label = f"{migration.version:04d}_{migration.name}"
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(f"{label} was changed after it was applied; add a new migration instead")
            continue
        statements = (
            migration.statements(retention_days)
            if cluster is None
            else cluster_statements(migration, cluster, retention_days)
        )
        for statement in statements:
            client.command(statement)
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        done.append(label)
    apply_retention(client, retention, cluster)
    return done
