"""`touchline identity resolve`: recompute identity_map (every identifier → one person)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.warehouse_sql import warehouse_sql


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    identity = commands.add_parser("identity", help="identity resolution").add_subparsers(
        dest="action", required=True
    )
    resolve = identity.add_parser(
        "resolve", parents=[common], help="recompute identity_map from identity_links (idempotent)"
    )
    resolve.add_argument("--site", default=None, help="only this site, by id or domain (default: all sites)")
    resolve.set_defaults(run=run_resolve)


def run_resolve(args: argparse.Namespace) -> int:
    from touchline.identity.resolve import resolve

    result = resolve(warehouse_sql(context.data_dir(args.data_dir)), args.site)
    print(
        json.dumps(
            {
                "identifiers": result.identifiers,
                "persons": result.persons,
                "rounds": result.rounds,
                "changed": result.changed,
                "removed": result.removed,
                "seconds": round(result.seconds, 3),
            }
        )
    )
    return 0
