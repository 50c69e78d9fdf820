"""`touchline aggregate run` and `touchline goals …`: the scheduled aggregation, by hand."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, time, timedelta
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

    goals = commands.add_parser("goals", help="goals: custom events or page patterns").add_subparsers(
        dest="action", required=True
    )
    add = goals.add_parser("add", parents=[common], help="add (or replace) a goal")
    add.add_argument("site")
    add.add_argument("name")
    _goal_options(add)
    add.add_argument("--currency", default="USD", help="the value's ISO 4217 currency")
    add.set_defaults(run=add_goal)
    edit = goals.add_parser("edit", parents=[common], help="edit a goal (history is re-evaluated)")
    edit.add_argument("site")
    edit.add_argument("name")
    edit.add_argument("--rename", default=None, help="a new name (the goal keeps its id)")
    _goal_options(edit)
    edit.add_argument("--currency", default=None, help="the value's ISO 4217 currency")
    edit.add_argument("--no-value", action="store_true", help="remove the value (use the event's revenue)")
    edit.add_argument("--active", dest="active", action="store_const", const=True, default=None)
    edit.set_defaults(run=edit_goal)
    listing = goals.add_parser("list", parents=[common], help="list the site's goals")
    listing.add_argument("site")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_goals)
    conversions = goals.add_parser(
        "conversions", parents=[common], help="completions with source, value and revenue after"
    )
    conversions.add_argument("site")
    conversions.add_argument("--goal", action="append", default=None, help="only this goal (name or id)")
    conversions.add_argument(
        "--from", dest="start", type=date.fromisoformat, default=None, help="first day (UTC)"
    )
    conversions.add_argument(
        "--to", dest="end", type=date.fromisoformat, default=None, help="last day, included"
    )
    conversions.add_argument("--limit", type=int, default=1000)
    conversions.add_argument("--format", choices=["table", "json"], default="table")
    conversions.set_defaults(run=list_conversions)
    remove = goals.add_parser("remove", parents=[common], help="delete a goal")
    remove.add_argument("site")
    remove.add_argument("name")
    remove.set_defaults(run=remove_goal)


def _goal_options(parser: argparse.ArgumentParser) -> None:
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--page", default=None, help="a page_url goal: /path, * within a segment, ** across")
    kind.add_argument("--event", default=None, help="the custom event completing it (default: the name)")
    parser.add_argument(
        "--method", choices=["javascript", "data_attribute"], default=None, help="how a custom event is sent"
    )
    parser.add_argument(
        "--prop", action="append", default=None, metavar="KEY=VALUE", help="a property the event must have"
    )
    parser.add_argument("--value", default=None, help="the goal's value (else the event's revenue)")
    parser.add_argument("--inactive", dest="active", action="store_const", const=False, default=None)


def _definition(args: argparse.Namespace) -> dict[str, Any]:
    """The goal options given, as the accounts service's fields."""
    out: dict[str, Any] = {}
    if args.page is not None:
        out.update(track_method="page_url", page_pattern=args.page)
    elif args.event is not None or args.method is not None:
        out["track_method"] = args.method or "javascript"
        if args.event is not None:
            out["event_name"] = args.event
    if args.prop is not None:
        pairs = [p.partition("=") for p in args.prop]
        if any(not sep or not key for key, sep, _ in pairs):
            raise CliError("--prop takes KEY=VALUE")
        out["properties"] = {key: value for key, _, value in pairs}
    if args.active is not None:
        out["active"] = args.active
    return out


def _value(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CliError(f"--value must be a number, got {text!r}") from None


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

    value = _value(args.value)
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            goal = service.add_goal(
                accounts.operator(), args.site, args.name, value, args.currency, **_definition(args)
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    what = f"pageviews of {goal.page_pattern}" if goal.page_pattern else f"the event {goal.custom_event!r}"
    print(f"goal {goal.name!r} ({goal.id}) is {what} on {args.site}")
    return 0


def edit_goal(args: argparse.Namespace) -> int:
    """As `PATCH /api/v1/sites/{id}/goals/{name}`."""
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    changes = _definition(args)
    if args.rename is not None:
        changes["name"] = args.rename
    if args.no_value:
        changes["value"] = None
    elif args.value is not None:
        changes["value"] = _value(args.value)
    if args.currency is not None:
        changes["currency"] = args.currency
    if not changes:
        raise CliError("nothing to change: give --rename, --page, --event, --prop, --value, --active …")
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            goal = service.update_goal(accounts.operator(), args.site, args.name, changes)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"goal {goal.name!r} ({goal.id}) updated on {args.site}")
    return 0


def list_goals(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline.goals.definition import goal_out
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            goals = service.list_goals(accounts.operator(), args.site)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    if args.format == "json":
        print(json.dumps([goal_out(g) for g in goals], indent=1))
        return 0
    for goal in goals:
        value = f"{goal.value} {goal.currency}" if goal.value is not None else "event revenue"
        what = f"page {goal.page_pattern}" if goal.page_pattern else f"event {goal.custom_event}"
        props = " ".join(f"{k}={v}" for k, v in goal.properties)
        state = "" if goal.active else "\tinactive"
        print(f"{goal.name}\t{what}{' ' + props if props else ''}\t{value}{state}")
    return 0


def list_conversions(args: argparse.Namespace) -> int:
    """`goal_conversions` (touchline.goals.conversions) for a period (default: the last 30 days)."""
    from touchline.config.attribution_settings import AttributionSettingsStore
    from touchline.goals.conversions import conversion_out, goal_conversions
    from touchline_dev.cli.warehouse_sql import warehouse_sql

    directory = context.data_dir(args.data_dir)
    end = args.end or datetime.now(UTC).date()
    start = args.start or end - timedelta(days=29)
    if end < start:
        raise CliError("--to is before --from")
    with context.config_table(directory) as (dynamodb, table):
        settings = AttributionSettingsStore(dynamodb, table).get(args.site)
    wanted = None
    if args.goal:
        wanted = [g.id for g in settings.goals if g.name in args.goal or g.id in args.goal]
        if not wanted:
            raise CliError(f"no goal {args.goal[0]!r}: touchline goals list {args.site}")
    rows = goal_conversions(
        warehouse_sql(directory),
        args.site,
        settings,
        datetime.combine(start, time(), UTC),
        datetime.combine(end + timedelta(days=1), time(), UTC),
        goal_ids=wanted,
        limit=args.limit,
    )
    if args.format == "json":
        print(json.dumps([conversion_out(r) for r in rows], indent=1))
        return 0
    for r in rows:
        after = " ".join(f"{a} {c}" for c, a in r["revenue_after"].items()) or "-"
        value = f"{r['goal_value']} {r['currency']}".strip()
        print(
            f"{r['converted_at']}\t{r['goal_name']}\t{r['visitor_id']}\t{r['source'] or '-'}"
            f"\t{value}\t{after}"
        )
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
