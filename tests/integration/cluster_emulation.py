"""Run `migrate(…, cluster=…)` against two emulated nodes of a 2-shard cluster; print a JSON report.

Run as a script (`python cluster_emulation.py DIR`) by test_cluster_migrations.py: the embedded
engine takes its server configuration once per process, and this one needs an in-memory Keeper
(`testkeeper`), `{shard}`/`{replica}` macros and a `remote_servers` entry for the Distributed
tables. The embedded engine has no distributed-DDL worker, so `Nodes` does what each node's worker
does with an `ON CLUSTER` statement: runs it without the clause, here once per node (a database
per node, since both live in one process). What this cannot show: Distributed tables sending rows
to other servers and Keeper replication between servers (docs/deploy.md says what differs).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from touchline.identity.gdpr import personal_tables
from touchline.warehouse.cluster import ClusterTarget
from touchline.warehouse.migrate import MigrationError, available_migrations, cluster_statements, migrate
from touchline.warehouse.sql import ClientSql

KEEPER_NODES = ("k1", "k2")
NODES = ("s1", "s2")
CONFIG = """<clickhouse>
  <interserver_http_port>9009</interserver_http_port>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
  <macros><shard>01</shard><replica>r1</replica></macros>
  <remote_servers><tl>
    <shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.1</host><port>9000</port></replica></shard>
    <shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.2</host><port>9000</port></replica></shard>
  </tl></remote_servers>
</clickhouse>
"""
# The embedded engine never activates a replicated table (it stays read-only: no restarting
# thread), so the full migration runs on stand-ins: the same DDL with `Replicated*MergeTree(path,
# replica, args)` as `*MergeTree(args)`. The real replicated CREATEs run in the Keeper phase.
_REPLICATED = re.compile(r"ENGINE = Replicated(\w+)\('[^']*', '[^']*'(?:, )?")


class Nodes:
    """The migration's client: `ON CLUSTER` DDL runs on every node, the rest on the first."""

    def __init__(self, clients: dict[str, Client], stand_ins: bool) -> None:
        self.clients = clients
        self.first = next(iter(clients.values()))
        self.stand_ins = stand_ins

    def command(self, statement: str, *args: Any, **kwargs: Any) -> Any:
        if " ON CLUSTER `tl`" not in statement:
            result = self.first.command(statement, *args, **kwargs)
            if self.stand_ins and result and "name = 'schema_migrations'" in statement:
                return f"Replicated{result}"  # what the node would report
            return result
        result = None
        for node, client in self.clients.items():
            local = statement.replace(" ON CLUSTER `tl`", "").replace("`touchline`", f"`{node}`")
            if self.stand_ins:
                local = _REPLICATED.sub(r"ENGINE = \1(", local)
            result = client.command(local, *args, **kwargs)
        return result

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self.first.query(*args, **kwargs)

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        return self.first.insert(*args, **kwargs)


def _clients(directory: Path, names: tuple[str, ...]) -> dict[str, Client]:
    clients: dict[str, Client] = {}
    for node in names:
        client = clickhouse_connect.get_client(
            interface="chdb",
            path=str(directory / "data"),
            chdb_options={"config-file": str(directory / "config.xml")},
        )
        client.command(f"CREATE DATABASE IF NOT EXISTS `{node}`")
        client.database = node
        clients[node] = client
    return clients


def _engines(client: Client) -> dict[str, str]:
    rows = client.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()")
    return {str(name): str(engine) for name, engine in rows.result_rows}


def _columns(client: Client, table: str) -> list[tuple[str, str, str, str]]:
    rows = client.query(
        "SELECT name, type, default_kind, default_expression FROM system.columns "
        "WHERE database = currentDatabase() AND table = %(t)s ORDER BY position",
        parameters={"t": table},
    )
    return [tuple(str(v) for v in row) for row in rows.result_rows]  # type: ignore[misc]


def main(directory: Path) -> None:
    (directory / "config.xml").write_text(CONFIG, encoding="utf-8")
    target = ClusterTarget("tl", "touchline", "site_id")
    report: dict[str, Any] = {"keeper_engines": {}, "engines": {}, "columns_match": {}}

    # 1. Keeper phase: every CREATE of the cluster DDL, real Replicated engines and Distributed.
    keeper = Nodes(_clients(directory, KEEPER_NODES), stand_ins=False)
    keeper.command(target.history_table())
    for migration in available_migrations():
        for statement in cluster_statements(migration, target):
            if statement.startswith(("CREATE TABLE", "CREATE MATERIALIZED VIEW", "CREATE VIEW")):
                keeper.command(statement)
    for node, client in keeper.clients.items():
        report["keeper_engines"][node] = _engines(client)
    engine_full = str(
        keeper.first.command(
            "SELECT engine_full FROM system.tables WHERE database = 'k1' AND name = 'events'",
        )
    )
    report["sharding_key"] = re.sub(r"^Distributed\([^,]+, [^,]+, [^,]+, (.*)\)$", r"\1", engine_full)
    try:
        migrate(keeper.first, 730)
        report["refused_single_server_migrate"] = False
    except MigrationError:
        report["refused_single_server_migrate"] = True
    keeper.first.command(
        "CREATE TABLE window_check (site_id String) ENGINE = ReplicatedReplacingMergeTree("
        "'/clickhouse/tables/{shard}/{database}/window_check', '{replica}') ORDER BY site_id "
        "SETTINGS non_replicated_deduplication_window = 1000"
    )
    report["replicated_accepts_non_replicated_window"] = True

    # 2. The whole migration, every ALTER included, through migrate(…, cluster=…) on stand-ins.
    nodes = Nodes(_clients(directory, NODES), stand_ins=True)
    report["applied"] = migrate(nodes, 730, target)  # type: ignore[arg-type]
    report["second_run"] = migrate(nodes, 730, target)  # type: ignore[arg-type]
    for node, client in nodes.clients.items():
        engines = _engines(client)
        report["engines"][node] = engines
        report["columns_match"][node] = {
            name: _columns(client, name) == _columns(client, f"{name}_local")
            for name, engine in engines.items()
            if engine == "Distributed"
        }
    # What the GDPR delete would mutate on this layout (real Distributed engine_full strings).
    report["gdpr_targets"] = {
        t.name: t.mutation_target for t in personal_tables(ClientSql(nodes.clients[NODES[0]]))
    }
    print(json.dumps(report), flush=True)
    _leave()


def _leave() -> None:
    """Exit without the embedded engine's teardown (closing its clients hangs once read-only
    replicated tables exist): the report or the traceback is out by then."""
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except BaseException:
        traceback.print_exc()
    _leave()
