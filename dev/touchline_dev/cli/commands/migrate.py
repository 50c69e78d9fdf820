"""`touchline migrate`: apply the versioned ClickHouse migrations (optionally to a cluster)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError

if TYPE_CHECKING:
    from touchline.settings import WarehouseSettings
    from touchline.warehouse.retention import Retention


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser("migrate", parents=[common], help="apply ClickHouse migrations")
    migrate.add_argument(
        "--retention-days", type=int, default=None, help="days raw events are kept (default 730)"
    )
    migrate.add_argument(
        "--session-retention-days",
        type=int,
        default=None,
        help="days sessions and journeys are kept (default: as raw events)",
    )
    migrate.add_argument(
        "--metrics-retention-days",
        type=int,
        default=None,
        help="days daily metrics are kept (default 1825, never less than sessions)",
    )
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
    retention = _retention(args, WarehouseSettings)
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
                    migration.statements(retention.events_days)
                    if cluster is None
                    else cluster_statements(migration, cluster, retention.events_days)
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
    print(
        f"retention: events {retention.events_days} days, sessions {retention.sessions} days, "
        f"daily metrics {retention.metrics} days"
    )
    return 0


def _retention(args: argparse.Namespace, settings: type[WarehouseSettings]) -> Retention:
    """Flags over TOUCHLINE_*RETENTION_DAYS; a contradiction is the operator's error, not a crash."""
    from pydantic import ValidationError

    from touchline.warehouse.retention import Retention, RetentionError

    try:
        env = settings.from_env()
        return Retention(
            args.retention_days or env.retention_days,
            args.session_retention_days or env.session_retention_days or None,
            args.metrics_retention_days or env.metrics_retention_days or None,
        )
    except (RetentionError, ValidationError) as exc:
        raise CliError(str(exc)) from None
