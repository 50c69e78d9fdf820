"""`touchline …`: run the local stack, migrate, register sites, query the warehouse."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from touchline.cli import context


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
        return result
    except CliError as exc:
        print(f"touchline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", help="local state directory (env TOUCHLINE_DATA_DIR, default .touchline)", default=None
    )
    parser = argparse.ArgumentParser(prog="touchline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", parents=[common], help="run the local stack (no Docker)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--template", default="template.yaml", help="SAM template to serve")
    dev.set_defaults(run=cmd_dev)

    migrate = commands.add_parser("migrate", parents=[common], help="apply ClickHouse migrations")
    migrate.add_argument("--retention-days", type=int, default=None, help="raw event TTL (default 730)")
    migrate.set_defaults(run=cmd_migrate)

    sites = commands.add_parser("sites", help="register and list sites").add_subparsers(
        dest="action", required=True
    )
    add = sites.add_parser("add", parents=[common], help="register a site domain; prints its id")
    add.add_argument("domain")
    add.set_defaults(run=cmd_sites_add)
    listing = sites.add_parser("list", parents=[common], help="list registered sites")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=cmd_sites_list)

    sql = commands.add_parser("sql", parents=[common], help="run a query against the warehouse")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["tsv", "json"], default="tsv")
    sql.set_defaults(run=cmd_sql)
    return parser


def cmd_dev(args: argparse.Namespace) -> int:
    from touchline.devstack.runner import serve

    template = Path(args.template)
    if not template.exists():
        raise CliError(f"{template} not found: run from the repository root or pass --template")
    serve(host=args.host, port=args.port, data_dir=context.data_dir(args.data_dir), template=template)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from touchline.settings import WarehouseSettings
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    directory = context.data_dir(args.data_dir)
    _refuse_if_stack_owns(directory, "it applied the migrations when it started")
    retention = args.retention_days or WarehouseSettings.from_env().retention_days
    applied = migrate(connect(context.warehouse_url(directory), create_database=True), retention)
    print("\n".join(f"applied {name}" for name in applied) or "schema is up to date")
    return 0


def cmd_sites_add(args: argparse.Namespace) -> int:
    from touchline.config.sites import InvalidDomain, SiteExists, SiteStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        try:
            site = SiteStore(client, table).add(args.domain)
        except (InvalidDomain, SiteExists) as exc:
            raise CliError(str(exc)) from None
    print(site.site_id)
    print(
        f'registered {site.domain}; add the tag or POST hits with "domain": "{site.domain}"', file=sys.stderr
    )
    return 0


def cmd_sites_list(args: argparse.Namespace) -> int:
    from touchline.config.sites import SiteStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        sites = SiteStore(client, table).list()
    if args.format == "json":
        print(
            json.dumps(
                [{"site_id": s.site_id, "domain": s.domain, "created_at": s.created_at} for s in sites]
            )
        )
    else:
        for site in sites:
            print(f"{site.site_id}\t{site.domain}\t{site.created_at}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    directory = context.data_dir(args.data_dir)
    stack = _running_stack(directory)
    if stack is not None:
        from touchline.devstack.state import query_stack

        try:
            payload = query_stack(stack, args.query, "json")
        except RuntimeError as exc:
            raise CliError(f"query failed: {exc}") from None
        columns, rows = payload["columns"], payload["rows"]
    else:
        from touchline.warehouse.client import connect

        result = connect(context.warehouse_url(directory)).query(args.query)
        columns, rows = list(result.column_names), [list(r) for r in result.result_rows]
    print(_format_rows(columns, rows, args.format))
    return 0


def _running_stack(directory: Path) -> Any:
    if not context.uses_embedded_warehouse():
        return None
    from touchline.devstack.state import running_stack

    return running_stack(directory)


def _refuse_if_stack_owns(directory: Path, why: str) -> None:
    if _running_stack(directory) is not None:
        raise CliError(f"a local stack is running on {directory}; {why}")


def _format_rows(columns: list[str], rows: list[list[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str)
    return "\n".join("\t".join(_tsv_cell(v) for v in row) for row in rows)


def _tsv_cell(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


if __name__ == "__main__":
    raise SystemExit(main())
