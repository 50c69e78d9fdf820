"""`touchline report …`: reports over the warehouse (one subcommand per report).

Each report is a subcommand added by its own `_add_<name>` function below and a module in
`touchline.reports`; all of them query through `context.query`, so they work with or without a
running local stack, and against a ClickHouse server when TOUCHLINE_CLICKHOUSE_URL says so.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from touchline_dev.cli.commands import commerce_reports
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    reports = commands.add_parser("report", help="reports over the warehouse").add_subparsers(
        dest="report", required=True
    )
    _add_revenue(reports, common)
    _add_overview(reports, common)
    _add_attribution(reports, common)
    commerce_reports.register(reports, common)


def period_arguments(parser: argparse.ArgumentParser) -> None:
    """`--site`, `--from`, `--to` (inclusive days in the site's time zone: every report runs on
    the query engine) and `--format`: shared by every report."""
    parser.add_argument("--site", required=True, help="site id or domain (touchline sites list)")
    parser.add_argument(
        "--from", dest="start", type=_day, default=None, help="first day, YYYY-MM-DD (site's time zone)"
    )
    parser.add_argument(
        "--to", dest="end", type=_day, default=None, help="last day, YYYY-MM-DD (site's time zone), included"
    )
    parser.add_argument("--format", choices=["table", "json"], default="table")


def local_days(args: argparse.Namespace) -> tuple[date | None, date | None]:
    """`--from`/`--to` as the site's local days, for the reports that run on the query engine."""
    if args.start and args.end and args.end < args.start:
        raise CliError("--to is before --from")
    start: date | None = args.start
    end: date | None = args.end
    return start, end


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# ---------------------------------------------------------------------------- revenue


def _add_revenue(reports: Any, common: argparse.ArgumentParser) -> None:
    revenue = reports.add_parser(
        "revenue",
        parents=[common],
        help="per currency: orders, gross, refunds, net revenue and the share linked to a visitor",
    )
    period_arguments(revenue)
    revenue.set_defaults(run=run_revenue)


def run_revenue(args: argparse.Namespace) -> int:
    from touchline.reports.revenue import revenue_report
    from touchline_dev.cli.engine import engine_runner

    start, end = local_days(args)
    with engine_runner(args) as run:
        report = revenue_report(run, args.site, start, end)
    print(report.to_json() if args.format == "json" else report.to_table())
    return 0


# ---------------------------------------------------------------------------- overview


def _add_overview(reports: Any, common: argparse.ArgumentParser) -> None:
    overview = reports.add_parser(
        "overview",
        parents=[common],
        help="visitors, sessions, pageviews, bounce rate, duration, revenue, conversion rate, top lists",
    )
    period_arguments(overview)
    overview.set_defaults(run=run_overview)


def run_overview(args: argparse.Namespace) -> int:
    from touchline.reports.overview import overview_report
    from touchline_dev.cli.engine import engine_runner

    start, end = local_days(args)
    with engine_runner(args) as run:
        report = overview_report(run, args.site, start, end)
    print(report.to_json() if args.format == "json" else report.to_table())
    return 0


# ---------------------------------------------------------------------------- attribution


def _add_attribution(reports: Any, common: argparse.ArgumentParser) -> None:
    from touchline.datadriven import TOUCHES
    from touchline.reports.attribution import BASES, MODELS

    attribution = reports.add_parser(
        "attribution", parents=[common], help="conversions and revenue credited per model"
    )
    period_arguments(attribution)
    attribution.add_argument("--model", choices=["all", *MODELS], default="all")
    attribution.add_argument("--by", choices=["channel", "source", "campaign"], default="channel")
    attribution.add_argument(
        "--touches",
        choices=TOUCHES,
        default="all",
        help="clicks_only: ignore Direct touches when a journey has another; paid_only: ignore direct, "
        "organic and owned touches when it has a paid one (computed now, from the stored fits)",
    )
    attribution.add_argument(
        "--basis",
        choices=BASES,
        default="cash",
        help="cash: credit dated by the conversion; accrual: by the touch it credits",
    )
    attribution.set_defaults(run=run_attribution)


def run_attribution(args: argparse.Namespace) -> int:
    from touchline.reports.attribution import attribution_report
    from touchline_dev.cli.engine import engine_runner

    start, end = local_days(args)
    # The engine reads the site's time zone and half-life (time decay under a touches variant).
    with engine_runner(args) as run:
        report = attribution_report(run, args.site, start, end, args.model, args.by, args.touches, args.basis)
    print(report.to_json() if args.format == "json" else report.to_table())
    return 0
