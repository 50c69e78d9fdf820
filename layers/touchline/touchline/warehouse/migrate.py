"""Versioned schema migrations: `migrations/NNNN_name.sql`, applied once each, in order.

Applied versions are recorded in `schema_migrations` with the file's checksum, so re-running is a
no-op and an edited, already-applied file is reported instead of silently diverging. Migration
files may use `{retention_days}`; the retention setting is also re-applied to existing tables on
every run (`MODIFY TTL` only touches metadata), so changing it needs no new migration.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from clickhouse_connect.driver.client import Client

MIGRATIONS_PACKAGE = "touchline.warehouse.migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# Tables whose raw rows expire after the retention period: table -> TTL time expression.
RETENTION_TTL = {"events": "toDateTime(timestamp)"}


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


def _ensure_history_table(client: Client) -> None:
    client.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = MergeTree ORDER BY version"
    )


def applied_versions(client: Client) -> dict[int, str]:
    _ensure_history_table(client)
    rows = client.query("SELECT version, any(checksum) FROM schema_migrations GROUP BY version").result_rows
    return {int(version): str(checksum) for version, checksum in rows}


def migrate(client: Client, retention_days: int = 730) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    applied = applied_versions(client)
    done: list[str] = []
    for migration in available_migrations():
        recorded = applied.get(migration.version)
        label = f"{migration.version:04d}_{migration.name}"
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(f"{label} was changed after it was applied; add a new migration instead")
            continue
        for statement in migration.statements(retention_days):
            client.command(statement)
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        done.append(label)
    apply_retention(client, retention_days)
    return done


def apply_retention(client: Client, retention_days: int) -> None:
    """Make each raw table's TTL match the retention setting, without rewriting existing parts."""
    for table, time_expr in RETENTION_TTL.items():
        wanted = f"{time_expr} + toIntervalDay({retention_days})"
        current = client.command(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = %(t)s",
            parameters={"t": table},
        )
        if isinstance(current, str) and f"toIntervalDay({retention_days})" in current:
            continue
        client.command(
            f"ALTER TABLE {table} MODIFY TTL {wanted}", settings={"materialize_ttl_after_modify": 0}
        )
