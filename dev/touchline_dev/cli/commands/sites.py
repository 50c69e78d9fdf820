"""`touchline sites add|list`: the domains Touchline accepts hits for."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    sites = commands.add_parser("sites", help="register and list sites").add_subparsers(
        dest="action", required=True
    )
    add = sites.add_parser("add", parents=[common], help="register a site domain; prints its id")
    add.add_argument("domain")
    add.set_defaults(run=add_site)
    listing = sites.add_parser("list", parents=[common], help="list registered sites")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_sites)
    settings = sites.add_parser("set", parents=[common], help="time zone and attribution settings of a site")
    settings.add_argument("site")
    settings.add_argument("--lookback-days", type=int, default=None, help="touchpoint window (default 30)")
    settings.add_argument(
        "--half-life-days", type=float, default=None, help="time-decay half-life (default 7)"
    )
    settings.add_argument(
        "--timezone",
        default=None,
        help="IANA time zone of the site's reporting days (default UTC), e.g. Europe/Berlin",
    )
    settings.add_argument(
        "--min-journeys", type=int, default=None, help="data-driven models: smallest sample (default 1000)"
    )
    settings.add_argument(
        "--min-conversions",
        type=int,
        default=None,
        help="data-driven models: fewest conversions (50)",
    )
    settings.add_argument(
        "--refit-hours", type=float, default=None, help="data-driven models: refit interval (default 24)"
    )
    settings.add_argument(
        "--basket-min-co-purchases",
        type=int,
        default=None,
        help="market baskets: pairs bought together at least this often (default 3)",
    )
    settings.add_argument(
        "--basket-lift-threshold",
        type=float,
        default=None,
        help="market baskets: lift from which a pair is frequently_bought (default 2.0)",
    )
    settings.set_defaults(run=set_site)


def add_site(args: argparse.Namespace) -> int:
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


def list_sites(args: argparse.Namespace) -> int:
    from touchline.config.sites import SiteStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        sites = SiteStore(client, table).list()
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "site_id": s.site_id,
                        "domain": s.domain,
                        "created_at": s.created_at,
                        "timezone": s.timezone,
                    }
                    for s in sites
                ]
            )
        )
    else:
        for site in sites:
            print(f"{site.site_id}\t{site.domain}\t{site.created_at}")
    return 0


def set_site(args: argparse.Namespace) -> int:
    from touchline.config.attribution_settings import AttributionSettingsStore
    from touchline.config.commerce_settings import CommerceSettingsStore
    from touchline.config.sites import SiteStore
    from touchline.query.dates import zone

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        context.require_site(client, table, args.site)
        store = AttributionSettingsStore(client, table)
        try:
            if args.timezone is not None:
                zone(args.timezone)
                SiteStore(client, table).set_timezone(args.site, args.timezone)
            store.set_windows(args.site, args.lookback_days, args.half_life_days)
            store.set_data_driven(args.site, args.min_journeys, args.min_conversions, args.refit_hours)
            commerce = CommerceSettingsStore(client, table)
            commerce.set_baskets(args.site, args.basket_min_co_purchases, args.basket_lift_threshold)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        settings = store.get(args.site)
        baskets = commerce.get(args.site).baskets
        site = SiteStore(client, table).by_id(args.site)
    timezone = site.timezone if site else "UTC"
    print(
        f"{args.site}: time zone {timezone}, lookback {settings.lookback_days} days, "
        f"half-life {settings.half_life_days} days; data-driven models from {settings.min_journeys} "
        f"journeys and {settings.min_conversions} conversions, refitted every {settings.refit_hours:g} "
        f"hours; baskets: at least {baskets.min_co_purchases} co-purchases, frequently_bought from lift "
        f"{baskets.lift_threshold}"
    )
    return 0
