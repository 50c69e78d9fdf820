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
    add.add_argument("--org", default=None, help="the organisation that owns it (id or name)")
    add.set_defaults(run=add_site)
    move = sites.add_parser("move", parents=[common], help="move a site into an organisation")
    move.add_argument("site", help="site id or domain")
    move.add_argument("--org", required=True, help="organisation id or name")
    move.set_defaults(run=move_site)
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
    settings.add_argument(
        "--consent",
        choices=["off", "opt_in", "opt_out"],
        default=None,
        help="store only what each call's consent allows (docs/consent.md; default off: record only)",
    )
    for purpose, default in (("analytics", "Analytics"), ("advertising", "Advertising,Marketing")):
        settings.add_argument(
            f"--consent-{purpose}-categories",
            default=None,
            metavar="NAMES",
            help=f"comma-separated consent categories that stand for {purpose} (default {default})",
        )
    settings.add_argument(
        "--cart-abandon-hours",
        type=float,
        default=None,
        help="carts: hours without activity after which an unordered cart is abandoned (default 24)",
    )
    settings.set_defaults(run=set_site)


def add_site(args: argparse.Namespace) -> int:
    from touchline.config.sites import InvalidDomain, SiteExists, SiteStore

    if args.org:
        return _add_to_org(args)
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


def _add_to_org(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        try:
            site = service.add_site(accounts.operator(), org_id, args.domain)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(site.site_id)
    print(
        f'registered {site.domain} in {org_id}; add the tag or POST hits with "domain": "{site.domain}"',
        file=sys.stderr,
    )
    return 0


def move_site(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        site = accounts.find_site(service, args.site)
        org_id = accounts.find_org(service, args.org)
        try:
            service.move_site(accounts.operator(), site.site_id, org_id)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"{site.domain} ({site.site_id}) now belongs to {org_id}")
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
                        "org_id": s.org_id,
                    }
                    for s in sites
                ]
            )
        )
    else:
        for site in sites:
            print(f"{site.site_id}\t{site.domain}\t{site.created_at}\t{site.org_id or '-'}")
    return 0


def set_site(args: argparse.Namespace) -> int:
    """Time zone and attribution window through the accounts service (as `PATCH
    /api/v1/sites/{id}`: validated, audited as the operator); the data-driven and basket
    settings, which the management API does not carry, straight into their stores."""
    from touchline.config.attribution_settings import AttributionSettingsStore
    from touchline.config.commerce_settings import CommerceSettingsStore
    from touchline.config.sites import SiteStore
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    directory = context.data_dir(args.data_dir)
    changes = {
        name: value
        for name, value in (
            ("timezone", args.timezone),
            ("lookback_days", args.lookback_days),
            ("half_life_days", args.half_life_days),
            ("consent", args.consent),
            ("consent_categories", _consent_categories(args)),
            ("cart_abandon_hours", args.cart_abandon_hours),
        )
        if value is not None
    }
    if changes:
        with accounts.accounts(directory) as service:
            try:
                service.update_site(accounts.operator(), args.site, **changes)
            except RequestError as exc:
                raise accounts.fail(exc) from None
    with context.config_table(directory) as (client, table):
        context.require_site(client, table, args.site)
        store = AttributionSettingsStore(client, table)
        try:
            store.set_data_driven(args.site, args.min_journeys, args.min_conversions, args.refit_hours)
            commerce = CommerceSettingsStore(client, table)
            commerce.set_baskets(args.site, args.basket_min_co_purchases, args.basket_lift_threshold)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        settings = store.get(args.site)
        baskets = commerce.get(args.site).baskets
        site = SiteStore(client, table).by_id(args.site)
    timezone = site.timezone if site else "UTC"
    consent = site.consent if site else None
    consent_text = (
        f"; consent {consent.mode} (analytics: {', '.join(consent.analytics)}; "
        f"advertising: {', '.join(consent.advertising)})"
        if consent and consent.enforced
        else ""
    )
    print(
        f"{args.site}: time zone {timezone}, lookback {settings.lookback_days} days, "
        f"half-life {settings.half_life_days} days; data-driven models from {settings.min_journeys} "
        f"journeys and {settings.min_conversions} conversions, refitted every {settings.refit_hours:g} "
        f"hours; baskets: at least {baskets.min_co_purchases} co-purchases, frequently_bought from lift "
        f"{baskets.lift_threshold}; carts abandoned after {settings.cart_abandon_hours:g} hours"
        f"{consent_text}"
    )
    return 0


def _consent_categories(args: argparse.Namespace) -> dict[str, list[str]] | None:
    given = {
        purpose: [name for name in value.split(",") if name.strip()]
        for purpose in ("analytics", "advertising")
        if (value := getattr(args, f"consent_{purpose}_categories")) is not None
    }
    return given or None
