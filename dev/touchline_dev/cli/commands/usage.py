"""`touchline usage --org ORG [--month YYYY-MM]`: events stored in a month against the limit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from touchline.accounts.usage import parse_month
from touchline.errors import RequestError
from touchline_dev.cli import accounts, context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    usage = commands.add_parser("usage", parents=[common], help="events per organisation per month")
    usage.add_argument("--org", required=True, help="organisation id or name")
    usage.add_argument("--month", default=None, help="YYYY-MM (default: this month, UTC)")
    usage.add_argument("--format", choices=["table", "json"], default="table")
    usage.set_defaults(run=show_usage)


def show_usage(args: argparse.Namespace) -> int:
    try:
        month = parse_month(args.month)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        try:
            found = service.usage(accounts.operator(), org_id, month)
        except RequestError as exc:
            raise accounts.fail(exc) from None
        domains = {site.site_id: site.domain for site in service.list_sites(accounts.operator(), org_id)}
    if args.format == "json":
        print(json.dumps(found.body()))
    else:
        limit = f" of {found.limit}" if found.limit is not None else " (no limit)"
        print(f"{found.org_id}\t{found.month}\t{found.events} events{limit}")
        for site_id, events in sorted(found.by_site.items()):
            print(f"  {domains.get(site_id, site_id)}\t{events}")
    if warning := found.warning():
        print(f"warning: {warning}", file=sys.stderr)
    return 0
