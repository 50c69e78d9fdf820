"""`touchline migrate`: apply the versioned ClickHouse migrations (optionally to a cluster)."""

from __future__ import annotations

import argparse
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser("migrate", parents=[common], help="apply ClickHouse migrations")
    migrate.add_argument("--retention-days", type=int, default=None, help="raw event TTL (default 730)")
    migrate.add_argument(
        "--cluster",
        metavar="NAME",
        help="a self-managed cluster (remote_servers name): Replicated local tables and "
        "Distributed tables ON CLUSTER; not for ClickHouse Cloud",
    )
    migrate.add_argument(
        "--shards-by",
        choices=("site_id", "visitor"),
        default="site_id",
        help="sharding key with --cluster: all of a site on one shard (default), or events and "
        "sessions spread by visitor (docs/deploy.md)",
    )
    migrate.add_argument(
        "--keeper-path",
        default=None,
        help="Keeper path prefix of the replicated tables (default /clickhouse/tables/{shard}/{database}/)",
    )
    migrate.add_argument(
        "--print",
        action="store_true",
        dest="print_only",
        help="print the statements every migration would run (with --cluster: the cluster DDL) "
        "and apply nothing",
    )
    migrate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from touchline.settings import WarehouseSettings
    from touchline.warehouse.client import connect, database_of
    from touchline.warehouse.cluster import DEFAULT_KEEPER_PATH, ClusterDDLError, ClusterTarget
    from touchline.warehouse.migrate import MigrationError, available_migrations, cluster_statements
    from touchline.warehouse.migrate import migrate as apply

    directory = context.data_dir(args.data_dir)
    url = context.warehouse_url(directory)
    retention = args.retention_days or WarehouseSettings.from_env().retention_days
    cluster = None
    if args.cluster:
        try:
            cluster = ClusterTarget(
                args.cluster, database_of(url), args.shards_by, args.keeper_path or DEFAULT_KEEPER_PATH
            )
        except ClusterDDLError as exc:
            raise CliError(str(exc)) from None
    elif args.keeper_path or args.shards_by != "site_id":
        raise CliError("--shards-by and --keeper-path need --cluster")
    if args.print_only:
        for migration in available_migrations():
            print(f"-- {migration.version:04d}_{migration.name}")
            try:
                statements = (
                    migration.statements(retention)
                    if cluster is None
                    else cluster_statements(migration, cluster, retention)
                )
            except ClusterDDLError as exc:
                raise CliError(str(exc)) from None
            print("".join(f"{statement};\n" for statement in statements))
        return 0
    context.refuse_if_stack_running(directory, "it applied the migrations when it started")
    try:
        applied = apply(connect(url, create_database=True), retention, cluster)
    except (MigrationError, ClusterDDLError) as exc:
        raise CliError(str(exc)) from None
    print("\n".join(f"applied {name}" for name in applied) or "schema is up to date")
    return 0
