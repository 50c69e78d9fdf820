"""`touchline keys create|list|revoke`: write keys for the tracking API (Segment/Customer.io SDKs)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from touchline.config.sites import Site


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser("keys", help="write keys for the tracking API").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser("create", parents=[common], help="create a write key for a site (shown once)")
    create.add_argument("site", help="site id or domain")
    create.set_defaults(run=create_key)
    listing = keys.add_parser("list", parents=[common], help="list write keys (ids only, never the keys)")
    listing.add_argument("site", nargs="?", help="only this site (id or domain)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_keys)
    revoke = keys.add_parser("revoke", parents=[common], help="revoke a write key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=revoke_key)


def find_site(client: DynamoDBClient, table: str, site: str) -> Site:
    from touchline.config.sites import InvalidDomain, SiteStore, normalize_domain

    store = SiteStore(client, table)
    found = store.by_id(site)
    if found is None:
        try:
            found = store.by_domain(normalize_domain(site))
        except InvalidDomain:
            found = None
    if found is None:
        raise CliError(f"no site {site!r}: register it with `touchline sites add DOMAIN`")
    return found


def create_key(args: argparse.Namespace) -> int:
    from touchline.config.write_keys import WriteKeyStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        site = find_site(client, table, args.site)
        key, record = WriteKeyStore(client, table).create(site.site_id, site.domain)
    print(key)
    print(
        f"write key {record.key_id} for {site.domain}: shown once, store it now. Point the SDK's "
        "host at this API and pass the key as its write key.",
        file=sys.stderr,
    )
    return 0


def list_keys(args: argparse.Namespace) -> int:
    from touchline.config.write_keys import WriteKeyStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        site_id = find_site(client, table, args.site).site_id if args.site else None
        keys = WriteKeyStore(client, table).keys(site_id)
    rows = [
        {
            "key_id": k.key_id,
            "site_id": k.site_id,
            "domain": k.site_domain,
            "created_at": k.created_at,
            "status": "revoked" if k.revoked else "active",
            "revoked_at": k.revoked_at,
        }
        for k in keys
    ]
    if args.format == "json":
        print(json.dumps(rows))
    else:
        for row in rows:
            print("\t".join(str(row[c]) for c in ("key_id", "site_id", "domain", "created_at", "status")))
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    from touchline.config.write_keys import UnknownKey, WriteKeyStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        try:
            record = WriteKeyStore(client, table).revoke(args.key_id)
        except UnknownKey as exc:
            raise CliError(str(exc)) from None
    print(f"revoked {record.key_id} ({record.site_domain}); refused within a minute", file=sys.stderr)
    return 0
