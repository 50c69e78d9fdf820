"""`touchline commerce run`: customer profiles, products, baskets and daily rollups now."""

from __future__ import annotations

import argparse
import json
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    commerce = commands.add_parser(
        "commerce", help="customer profiles, products, market baskets, campaign and account rollups"
    ).add_subparsers(dest="action", required=True)
    run = commerce.add_parser("run", parents=[common], help="run every commerce job now (docs/commerce.md)")
    run.add_argument("--site", default=None, help="one site id (default: every site)")
    run.add_argument("--full", action="store_true", help="recompute everything, changed or not")
    run.set_defaults(run=run_commerce)


def run_commerce(args: argparse.Namespace) -> int:
    directory = context.data_dir(args.data_dir)
    event = {"job": "commerce", "site": args.site, "full": args.full}
    stack = context.running_stack(directory)
    if stack is not None:
        from touchline_dev.devstack.state import call_stack

        status, body = call_stack(stack, "/_dev/invoke", {"function": "AggregatesFunction", "event": event})
        if status != 200:
            raise CliError(f"commerce run failed: {body.decode(errors='replace')}")
        result = json.loads(body)["result"]
    else:
        from touchline.commerce.service import commerce_now

        with context.config_table(directory) as (dynamodb, table):
            if args.site:
                context.require_site(dynamodb, table, args.site)
            result = commerce_now(context.warehouse(directory), dynamodb, table, args.site, full=args.full)
    print(json.dumps(result, indent=1, default=str))
    return 0
