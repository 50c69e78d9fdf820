"""`touchline …`: run the local stack, migrate, register sites, query the warehouse."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from touchline_dev.cli.commands import (
    aggregate,
    annotate,
    api_keys,
    audit,
    commerce,
    dev,
    funnels,
    identity,
    integrations,
    keys,
    members,
    migrate,
    orgs,
    people,
    query,
    realtime,
    report,
    shared_links,
    sites,
    sql,
    sync,
    tokens,
    usage,
    webhooks,
)
from touchline_dev.cli.context import resolve_site_argument
from touchline_dev.cli.errors import CliError

# Each command group registers its own subcommands; add new groups here.
COMMAND_GROUPS = (
    aggregate,
    annotate,
    api_keys,
    audit,
    commerce,
    dev,
    funnels,
    identity,
    integrations,
    keys,
    members,
    migrate,
    orgs,
    people,
    query,
    realtime,
    report,
    shared_links,
    sites,
    sql,
    sync,
    tokens,
    usage,
    webhooks,
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        resolve_site_argument(args)
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
        "--data-dir", default=None, help="local state directory (env TOUCHLINE_DATA_DIR, default .touchline)"
    )
    parser = argparse.ArgumentParser(prog="touchline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands, common)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
