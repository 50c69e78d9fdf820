"""`touchline integrations add|list`: connect a site to Stripe, Shopify, Lemon Squeezy, Polar or
Paddle webhooks, and to the Klaviyo, Shopify Admin, HubSpot and Gorgias syncs (their options:
`touchline_dev.cli.commands.sync`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.commands import sync
from touchline_dev.cli.errors import CliError

# What to subscribe to, and where: docs/revenue.md ("Webhook URLs to paste") says the same.
WEBHOOKS = {
    "stripe": (
        "Stripe Dashboard → Developers → Webhooks → Add endpoint",
        "checkout.session.completed, checkout.session.async_payment_succeeded, payment_intent.succeeded, "
        "invoice.paid, invoice_payment.paid, charge.refunded, refund.created, refund.updated, "
        "customer.created, customer.updated",
    ),
    "shopify": (
        "Shopify admin → Settings → Notifications → Webhooks (or your app's webhook subscriptions)",
        "orders/create, orders/paid, orders/updated, orders/cancelled, refunds/create, "
        "customers/create, customers/update",
    ),
    "lemonsqueezy": (
        "Lemon Squeezy → Settings → Webhooks → + (signing secret: the one you pass here)",
        "order_created, order_refunded, subscription_payment_success, subscription_payment_refunded",
    ),
    "polar": (
        "Polar → Settings → Webhooks → Add Endpoint (format: Raw)",
        "order.paid, order.refunded",
    ),
    "paddle": (
        "Paddle → Developer tools → Notifications → New destination (secret key: pdl_ntfset_…)",
        "transaction.completed, adjustment.created, adjustment.updated",
    ),
}
WEBHOOK_PROVIDERS = tuple(WEBHOOKS)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser(
        "integrations",
        help="connect webhooks (Stripe, Shopify, Lemon Squeezy, Polar, Paddle) and syncs "
        "(Klaviyo, Shopify, HubSpot, Gorgias)",
    ).add_subparsers(dest="action", required=True)
    add = group.add_parser(
        "add",
        parents=[common],
        help="store a provider's webhook signing secret or sync credentials for a site",
    )
    add.add_argument("provider", choices=[*WEBHOOK_PROVIDERS, "klaviyo", "hubspot", "gorgias"])
    add.add_argument("site", help="site id or domain (touchline sites list)")
    add.add_argument(
        "--secret",
        help="webhooks: the provider's signing secret (Stripe whsec_…, Shopify app client secret, "
        "Lemon Squeezy signing secret, Polar webhook secret, Paddle pdl_ntfset_…); '-': read stdin",
    )
    sync.add_credential_arguments(add)
    add.set_defaults(run=add_integration)
    listing = group.add_parser("list", parents=[common], help="list a site's integrations")
    listing.add_argument("site")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_integrations)


def add_integration(args: argparse.Namespace) -> int:
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    if sync.wants_sync(args):
        sync.connect_sync(args)
        if not args.secret:
            return 0
    elif not args.secret:
        raise CliError(f"{args.provider} webhooks need --secret")
    secret = sys.stdin.readline().strip() if args.secret == "-" else args.secret.strip()
    if not secret:
        raise CliError("the secret is empty")
    directory = context.data_dir(args.data_dir)
    # The accounts service, as `POST /api/v1/sites/{id}/integrations`: audited as the operator.
    with accounts.accounts(directory) as service:
        try:
            service.add_webhook_integration(accounts.operator(), args.site, args.provider, secret)
        except RequestError as exc:
            raise accounts.fail(exc) from None
        integration = service.integrations.get(args.site, args.provider)
    assert integration is not None
    url = webhook_url(directory, args.provider, args.site)
    print(url)
    where, what = WEBHOOKS[args.provider]
    print(
        f"stored the {args.provider} secret as {integration.secret_name}.\n"
        f"In {where}, send these events to the URL above (JSON):\n  {what}",
        file=sys.stderr,
    )
    return 0


def list_integrations(args: argparse.Namespace) -> int:
    from touchline.config.integrations import IntegrationStore
    from touchline.config.sync_integrations import SyncIntegrationStore

    with context.config_table(context.data_dir(args.data_dir)) as (dynamodb, table):
        found = IntegrationStore(dynamodb, table).list(args.site)
        syncs = SyncIntegrationStore(dynamodb, table).list(args.site)
    if args.format == "json":
        print(json.dumps([asdict(integration) for integration in found] + [asdict(s) for s in syncs]))
    else:
        for integration in found:
            print(f"{integration.provider}\t{integration.secret_name}\t{integration.created_at}")
        for connected in syncs:
            name = f"{connected.provider} (sync)"
            print(f"{name}\t{connected.secret_name}\t{connected.status}\t{connected.message}")
    return 0


def webhook_url(directory: Path, provider: str, site_id: str) -> str:
    """The running local stack's URL, else where the deployed API puts it."""
    path = f"/webhooks/{provider}/{site_id}"
    stack = context.running_stack(directory)
    if stack is not None and not os.environ.get("TOUCHLINE_CONFIG_TABLE"):
        return stack.http_url.rstrip("/") + path
    return f"https://<ApiBaseUrl of your stack>{path}"
