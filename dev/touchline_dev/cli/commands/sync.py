"""`touchline sync run|status`: sync a provider now (with a progress bar), or see how syncs are doing.

`sync run` runs in this process against the config table and ClickHouse the CLI is pointed at
(deployed: `TOUCHLINE_CONFIG_TABLE` + `TOUCHLINE_CLICKHOUSE_URL`; local: the data dir). While a
local stack runs, the embedded ClickHouse belongs to it, so the run goes through the stack's
SyncFunction instead, a few seconds at a time (each slice stops cleanly and the next resumes).

Also the sync half of `touchline integrations add klaviyo|shopify|hubspot|gorgias`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError

PROVIDERS = ("klaviyo", "shopify", "hubspot", "gorgias")
SLICE_SECONDS = 3.0  # how long each SyncFunction invocation runs when going through the stack


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser("sync", help="run and inspect third-party syncs").add_subparsers(
        dest="action", required=True
    )
    run = group.add_parser("run", parents=[common], help="sync a provider for a site now")
    run.add_argument("provider", choices=PROVIDERS)
    run.add_argument("--site", required=True, help="site id or domain (touchline sites list)")
    when = run.add_mutually_exclusive_group()
    when.add_argument("--full", action="store_true", help="forget the watermarks: re-read everything")
    when.add_argument("--since", type=_moment, help="re-read from this date (YYYY-MM-DD or ISO 8601, UTC)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(run=run_sync_command)
    status = group.add_parser("status", parents=[common], help="connected syncs, last runs, watermarks")
    status.add_argument("--site", help="only this site")
    status.add_argument("--format", choices=["table", "json"], default="table")
    status.set_defaults(run=status_command)


def _moment(text: str) -> datetime:
    try:
        moment = (
            datetime.fromisoformat(text)
            if "T" in text
            else datetime.combine(date.fromisoformat(text), datetime.min.time())
        )
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (YYYY-MM-DD or ISO 8601)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ---------------------------------------------------------------------- run


def run_sync_command(args: argparse.Namespace) -> int:
    from touchline_dev.cli.progress import ProgressLine

    directory = context.data_dir(args.data_dir)
    progress = ProgressLine(enabled=False if args.quiet else None)
    stack = None if os.environ.get("TOUCHLINE_CONFIG_TABLE") else context.running_stack(directory)
    if stack is not None:
        summary = _run_through_stack(stack, args, progress)
    else:
        summary = _run_here(directory, args, progress)
    for name, stream in summary["streams"].items():
        counts = f"{stream['records']:,} records, {stream['rows']:,} rows"
        why = f" ({stream['message']})" if stream.get("message") else ""
        progress.finish(f"{args.provider} {name}: {stream['status']}{why}, {counts}")
    if summary.get("error"):
        raise CliError(f"{args.provider} sync of {args.site} failed: {summary['error']}")
    if summary.get("failed"):
        names = ", ".join(summary["failed"])
        raise CliError(f"{args.provider} sync of {args.site}: {names} failed (the other streams ran)")
    if summary.get("stopped"):
        print(f"stopped early: {summary['stopped']}", file=sys.stderr)
    return 0


def _run_here(directory: Any, args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    from touchline.config.sync_integrations import SyncIntegrationStore
    from touchline.config.sync_state import SyncStateStore
    from touchline.load.clickhouse_sink import ClickHouseRowSink
    from touchline.syncs.http import SyncError
    from touchline.syncs.runner import StreamProgress
    from touchline.syncs.service import SyncEnvironment, run_sync
    from touchline.warehouse.migrate import migrate

    client = context.warehouse(directory)
    if context.warehouse_url(directory).startswith("chdb:"):
        migrate(client)  # the local engine may never have been migrated; cheap when up to date
    with context.config_and_secrets(directory) as (dynamodb, table, secrets):

        def secret(name: str) -> str:
            return str(secrets.get_secret_value(SecretId=name)["SecretString"])

        env = SyncEnvironment(
            SyncIntegrationStore(dynamodb, table),
            SyncStateStore(dynamodb, table),
            secret,
            ClickHouseRowSink(client),
        )
        origins: dict[str, datetime | None] = {}

        def show(track: StreamProgress) -> None:
            origin = origins.setdefault(track.stream, track.started_from or track.reached)
            progress.update(f"{args.provider} {track.stream}", track.records, origin, track.reached)

        try:
            report = run_sync(env, args.site, args.provider, full=args.full, since=args.since, progress=show)
        except SyncError as exc:
            raise CliError(str(exc)) from None
    return report.summary()


def _run_through_stack(stack: Any, args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    from touchline_dev.devstack.state import call_stack

    totals: dict[str, dict[str, Any]] = {}
    event: dict[str, Any] = {"action": "run", "site_id": args.site, "provider": args.provider}
    if args.full:
        event["full"] = True
    if args.since is not None:
        event["since"] = args.since.isoformat()
    while True:
        status, body = call_stack(
            stack,
            "/_dev/invoke",
            {"function": "SyncFunction", "event": {**event, "max_seconds": SLICE_SECONDS}},
            timeout=960,
        )
        answer = json.loads(body or b"{}")
        if status != 200:
            raise CliError(f"the local stack could not run the sync: {answer.get('error', body[:300])}")
        summary: dict[str, Any] = answer["result"]
        for name, stream in summary["streams"].items():
            total = totals.setdefault(name, {"status": "pending", "records": 0, "rows": 0, "origin": None})
            total.update(status=stream["status"], message=stream.get("message", ""))
            total["records"] += stream["records"]
            total["rows"] += stream["rows"]
            reached = datetime.fromisoformat(stream["reached"]) if stream.get("reached") else None
            origin = stream.get("started_from")
            total["origin"] = total["origin"] or (datetime.fromisoformat(origin) if origin else reached)
            if stream["records"]:
                progress.update(
                    f"{args.provider} {name}", total["records"], total["origin"], reached, force=True
                )
        # Done, or nothing a further slice could do (failed or quota-limited streams wait): only a
        # slice that stopped for time, or a lease held by another run, is worth another call.
        if summary.get("error") or summary.get("complete") or not summary.get("stopped"):
            summary["streams"] = {n: {k: v for k, v in t.items() if k != "origin"} for n, t in totals.items()}
            return summary
        if "in progress" in summary.get("stopped", ""):
            time.sleep(2)  # a scheduled run holds the lease: wait for it
        event = {k: v for k, v in event.items() if k not in ("full", "since")}  # reset only once


# ---------------------------------------------------------------------- status


def status_command(args: argparse.Namespace) -> int:
    from touchline.config.sync_integrations import SyncIntegrationStore
    from touchline.config.sync_state import SyncStateStore

    with context.config_table(context.data_dir(args.data_dir)) as (dynamodb, table):
        integrations = SyncIntegrationStore(dynamodb, table).list(args.site)
        state = SyncStateStore(dynamodb, table)
        found: list[dict[str, Any]] = [
            {
                "site_id": i.site_id,
                "provider": i.provider,
                "status": i.status,
                "message": i.message,
                "status_at": i.status_at,
                "api_base_url": i.api_base_url,
                "streams": {
                    name: {
                        "watermark": s.watermark.isoformat() if s.watermark else None,
                        "in_pass": s.position is not None,
                        "rows": s.rows,
                        "status": s.status,
                        "message": s.message,
                        "status_at": s.status_at.isoformat() if s.status_at else None,
                        "succeeded_at": s.succeeded_at.isoformat() if s.succeeded_at else None,
                    }
                    for name, s in sorted(state.load(i.site_id, i.provider).items())
                },
            }
            for i in integrations
        ]
    if args.format == "json":
        print(json.dumps(found, indent=1))
        return 0
    if not found:
        print(
            "no syncs connected: touchline integrations add klaviyo|shopify|hubspot|gorgias SITE …",
            file=sys.stderr,
        )
    for item in found:
        print(
            f"{item['site_id']}\t{item['provider']}\t{item['status']}\t{item['status_at']}\t{item['message']}"
        )
        for name, stream in item["streams"].items():
            where = stream["watermark"] or "-"
            more = " (pass in progress)" if stream["in_pass"] else ""
            last = stream["status"] or "never run"
            if stream["message"]:
                last += f": {stream['message']}"
            print(f"\t{name}\t{where}{more}\t{stream['rows']:,} rows\t{last}")
    return 0


# ---------------------------------------------------------------------- integrations add


def add_credential_arguments(add: argparse.ArgumentParser) -> None:
    """The sync providers' options of `touchline integrations add`."""
    sync = add.add_argument_group("sync credentials (klaviyo, shopify Admin API, hubspot, gorgias)")
    sync.add_argument("--api-key", help="Klaviyo private key (pk_…) or Gorgias REST API key")
    sync.add_argument("--admin-token", help="Shopify custom app Admin API access token (shpat_…)")
    sync.add_argument("--shop-domain", help="Shopify shop domain (example.myshopify.com)")
    sync.add_argument("--access-token", help="HubSpot private app access token")
    sync.add_argument("--domain", help="Gorgias account domain (<domain>.gorgias.com)")
    sync.add_argument("--email", help="Gorgias user email the API key belongs to")
    sync.add_argument("--api-base-url", default="", help="point the sync at another API host (fakes, tests)")
    sync.add_argument(
        "--currency", help="currency of amounts that do not name one (Klaviyo $value, HubSpot deals)"
    )
    sync.add_argument("--conversion-metric-id", help="Klaviyo metric reports count conversions with")
    sync.add_argument(
        "--statistics-interval-minutes",
        type=float,
        help="Klaviyo: refresh reports at most this often (default 60: within the 225/day quota)",
    )
    sync.add_argument("--deals-as-orders", action="store_true", help="HubSpot: won deals are orders")
    sync.add_argument(
        "--deal-stage", action="append", help="HubSpot deal stage that counts as won (repeatable)"
    )


def wants_sync(args: argparse.Namespace) -> bool:
    return args.provider in ("klaviyo", "hubspot", "gorgias") or bool(getattr(args, "admin_token", None))


def connect_sync(args: argparse.Namespace) -> None:
    """Store the provider's sync credentials for the site and connect it to the schedule."""
    from touchline.config.sync_integrations import SyncIntegrationStore

    credentials, options = _credentials(args)
    directory = context.data_dir(args.data_dir)
    with context.config_and_secrets(directory) as (dynamodb, table, secrets):
        context.require_site(dynamodb, table, args.site)
        integration = SyncIntegrationStore(dynamodb, table).add(
            args.site,
            args.provider,
            credentials,
            secrets,
            api_base_url=args.api_base_url or "",
            options=options,
        )
    print(integration.secret_name)
    print(
        f"connected {args.provider} to {args.site}: synced every 15 minutes by SyncFunction; "
        f"now: touchline sync run {args.provider} --site {args.site}",
        file=sys.stderr,
    )


def _credentials(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    def need(*names: str) -> None:
        missing = [f"--{n.replace('_', '-')}" for n in names if not getattr(args, n, None)]
        if missing:
            raise CliError(f"{args.provider} needs {', '.join(missing)}")

    options: dict[str, Any] = {}
    if args.provider == "klaviyo":
        need("api_key")
        credentials = {"api_key": args.api_key}
        if args.conversion_metric_id:
            credentials["conversion_metric_id"] = args.conversion_metric_id
        if args.currency:
            credentials["currency"] = args.currency.upper()
        if args.statistics_interval_minutes:
            options["statistics_interval_minutes"] = args.statistics_interval_minutes
    elif args.provider == "shopify":
        need("admin_token", "shop_domain")
        credentials = {"admin_token": args.admin_token, "shop_domain": args.shop_domain}
    elif args.provider == "hubspot":
        need("access_token")
        credentials = {"access_token": args.access_token}
        if args.deals_as_orders:
            options["deals_as_orders"] = True
            options["deal_stages"] = args.deal_stage or ["closedwon"]
        if args.currency:
            options["currency"] = args.currency.upper()
    elif args.provider == "gorgias":
        need("domain", "email", "api_key")
        credentials = {"domain": args.domain, "email": args.email, "api_key": args.api_key}
    else:
        raise CliError(f"{args.provider} has no sync")
    return credentials, options
