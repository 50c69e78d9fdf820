"""`touchline migrate`: apply the versioned ClickHouse migrations."""

from __future__ import annotations

import argparse
from typing import Any

from touchline_dev.cli import context


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser("migrate", parents=[common], help="apply ClickHouse migrations")
    migrate.add_argument("--retention-days", type=int, default=None, help="raw event TTL (default 730)")
    migrate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from touchline.settings import WarehouseSettings
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    directory = context.data_dir(args.data_dir)
    context.refuse_if_stack_running(directory, "it applied the migrations when it started")
    retention = args.retention_days or WarehouseSettings.from_env().retention_days
    applied = migrate(connect(context.warehouse_url(directory), create_database=True), retention)
    print("\n".join(f"applied {name}" for name in applied) or "schema is up to date")
    return 0
