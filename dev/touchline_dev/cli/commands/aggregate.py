"""`touchline aggregate run` and `touchline goals …`: the scheduled aggregation, by hand."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    aggregate = commands.add_parser("aggregate", help="sessions, attribution and rollups").add_subparsers(
        dest="action", required=True
    )
    run = aggregate.add_parser("run", parents=[common], help="run the aggregation now (incremental)")
    run.add_argument("--site", default=None, help="one site id or domain (default: every site)")
    run.add_argument("--full", action="store_true", help="rebuild from all data instead of what is new")
    run.add_argument("--refit", action="store_true", help="fit the data-driven models now (else when due)")
    run.set_defaults(run=run_aggregation)

    goals = commands.add_parser("goals", help="goals that count as conversions").add_subparsers(
        dest="action", required=True
    )
    add = goals.add_parser("add", parents=[common], help="mark a goal as a conversion")
    add.add_argument("site")
    add.add_argument("name")
    add.add_argument("--value", default=None, help="the goal's value (else the event's revenue)")
    add.add_argument("--currency", default="USD", help="the value's ISO 4217 currency")
    add.set_defaults(run=add_goal)
    listing = goals.add_parser("list", parents=[common], help="list conversion goals")
    listing.add_argument("site")
    listing.set_defaults(run=list_goals)
    remove = goals.add_parser("remove", parents=[common], help="stop counting a goal as a conversion")
    remove.add_argument("site")
    remove.add_argument("name")
    remove.set_defaults(run=remove_goal)


def run_aggregation(args: argparse.Namespace) -> int:
    directory = context.data_dir(args.data_dir)
    event = {"site": args.site, "full": args.full, "refit": args.refit}
    stack = context.running_stack(directory)
    if stack is not None:
        # The running stack owns the embedded engine: let it invoke the real function.
        from touchline_dev.devstack.state import call_stack

        status, body = call_stack(stack, "/_dev/invoke", {"function": "AggregatesFunction", "event": event})
        if status != 200:
            raise CliError(f"aggregation failed: {body.decode(errors='replace')}")
        result = json.loads(body)["result"]
    else:
        from touchline.aggregate.service import run_sites

        with context.config_table(directory) as (dynamodb, table):
            result = run_sites(
                context.warehouse(directory), dynamodb, table, args.site, args.full, refit=args.refit
            ).as_dict()
    print(json.dumps(result, indent=1))
    return 0


def add_goal(args: argparse.Namespace) -> int:
    """Through the accounts service, as `POST /api/v1/sites/{id}/goals`: audited as the operator."""
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    value = None
    if args.value is not None:
        try:
            value = Decimal(args.value)
        except InvalidOperation:
            raise CliError(f"--value must be a number, got {args.value!r}") from None
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            service.add_goal(accounts.operator(), args.site, args.name, value, args.currency)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"goal {args.name!r} now counts as a conversion on {args.site}")
    return 0


def list_goals(args: argparse.Namespace) -> int:
    from touchline.config.attribution_settings import AttributionSettingsStore

    with context.config_table(context.data_dir(args.data_dir)) as (dynamodb, table):
        settings = AttributionSettingsStore(dynamodb, table).get(args.site)
    for goal in settings.goals:
        value = f"{goal.value} {goal.currency}" if goal.value is not None else "event revenue"
        print(f"{goal.name}\t{value}")
    return 0


def remove_goal(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            service.remove_goal(accounts.operator(), args.site, args.name)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    return 0
