"""`touchline funnels add|list|show|remove`: funnels through the accounts service (definitions)
and the query API's path (figures), as the operator."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    funnels = commands.add_parser("funnels", help="funnels: ordered pages or goals").add_subparsers(
        dest="action", required=True
    )
    add = funnels.add_parser("add", parents=[common], help="define a funnel")
    add.add_argument("site")
    add.add_argument("name")
    add.add_argument(
        "--step",
        action="append",
        required=True,
        metavar="PAGE_OR_GOAL",
        help="a page pattern (/pricing, /blog/*) or a goal's name (goal:NAME to force a goal); 2-8, in order",
    )
    add.add_argument("--window-hours", type=float, default=None, help="from the first step to the last (24)")
    add.add_argument("--strict", action="store_true", help="steps must be consecutive: nothing in between")
    add.set_defaults(run=add_funnel)
    listing = funnels.add_parser("list", parents=[common], help="the site's funnels")
    listing.add_argument("site")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_funnels)
    show = funnels.add_parser("show", parents=[common], help="a funnel's figures")
    show.add_argument("site")
    show.add_argument("name", help="the funnel's name or id")
    show.add_argument(
        "--from", dest="start", type=date.fromisoformat, default=None, help="first day, YYYY-MM-DD"
    )
    show.add_argument("--to", dest="end", type=date.fromisoformat, default=None, help="last day, included")
    show.add_argument("--period", default=None, help="a query API date_range instead (7d, 30d, month, all)")
    show.add_argument("--breakdown", default=None, help="a visit dimension (visit:source, visit:country …)")
    show.add_argument(
        "--filter",
        action="append",
        default=None,
        metavar="JSON",
        help='a query API filter: \'["is", "visit:source", ["Google"]]\'',
    )
    show.add_argument("--format", choices=["table", "json"], default="table")
    show.set_defaults(run=show_funnel)
    remove = funnels.add_parser("remove", parents=[common], help="delete a funnel")
    remove.add_argument("site")
    remove.add_argument("name", help="the funnel's name or id")
    remove.set_defaults(run=remove_funnel)


def add_funnel(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            funnel = service.create_funnel(
                accounts.operator(), args.site, args.name, args.step, args.window_hours, args.strict
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"funnel {funnel.name!r} ({funnel.funnel_id}): {' → '.join(s.label() for s in funnel.steps)}")
    return 0


def list_funnels(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            funnels = service.list_funnels(accounts.operator(), args.site)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    if args.format == "json":
        print(json.dumps([f.as_dict() for f in funnels], indent=1))
        return 0
    for f in funnels:
        mode = "strict" if f.strict else "loose"
        steps = " → ".join(s.label() for s in f.steps)
        print(f"{f.funnel_id}\t{f.name}\t{f.window_hours:g} h {mode}\t{steps}")
    return 0


def show_funnel(args: argparse.Namespace) -> int:
    from touchline.auth.principal import OPERATOR
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts
    from touchline_dev.cli.engine import engine_api

    if args.period and (args.start or args.end):
        raise CliError("give --period or --from/--to, not both")
    if args.start and args.end and args.end < args.start:
        raise CliError("--to is before --from")
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            funnel = service.find_funnel(accounts.operator(), args.site, args.name)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    params = {"site_id": args.site, "date_range": _date_range(args)}
    if args.breakdown:
        params["breakdown"] = args.breakdown
    if args.filter:
        try:
            params["filters"] = json.dumps([json.loads(f) for f in args.filter])
        except json.JSONDecodeError as exc:
            raise CliError(f"--filter takes a JSON filter: {exc}") from None
    with engine_api(args) as api:
        answer = api.funnel_as(OPERATOR, funnel.funnel_id, params)
    if answer.status != 200:
        raise CliError(str(answer.body.get("error", answer.body)))
    report = answer.body
    if args.format == "json":
        print(json.dumps(report, indent=1))
        return 0
    _print_table(report)
    return 0


def _date_range(args: argparse.Namespace) -> str:
    if args.period:
        return str(args.period)
    if args.start or args.end:
        start = args.start or args.end
        end = args.end or args.start
        return f"{start.isoformat()},{end.isoformat()}"
    return "30d"


def _print_table(report: dict[str, Any]) -> None:
    funnel = report["funnel"]
    mode = "strict" if funnel["strict"] else "loose"
    first, last = report["date_range"]
    print(f"{funnel['name']}  ({funnel['window_hours']:g} h window, {mode})  {first[:10]} to {last[:10]}")
    _print_steps(report["steps"])
    print(f"conversion: {report['conversion_rate']:.2f}% ({report['completed']} of {report['entered']})")
    for row in report["breakdown_rows"]:
        print(f"\n{report['breakdown']} = {row['value']}")
        _print_steps(row["steps"])


def _print_steps(steps: list[dict[str, Any]]) -> None:
    print(f"{'step':<40}{'visitors':>10}{'conv %':>9}{'drop-off':>10}{'drop %':>8}{'median s':>10}")
    for s in steps:
        median = (
            "" if s["median_seconds_from_previous"] is None else f"{s['median_seconds_from_previous']:.1f}"
        )
        label = f"{s['step']}. {s['label']}"[:39]
        print(
            f"{label:<40}{s['visitors']:>10}{s['conversion_rate']:>9.2f}{s['dropoff']:>10}"
            f"{s['dropoff_rate']:>8.2f}{median:>10}"
        )


def remove_funnel(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            service.delete_funnel(accounts.operator(), args.site, args.name)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    return 0
