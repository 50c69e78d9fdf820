"""`touchline api-keys create|list|revoke`: keys for the query API (`Authorization: Bearer`)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser("api-keys", help="API keys for the query API").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser("create", parents=[common], help="create a key for a site; prints it once")
    create.add_argument("site", nargs="?", default=None, help="site id or domain (or --org for every site)")
    create.add_argument(
        "--org", default=None, help="an account-wide key: every site of this organisation (id or name)"
    )
    create.add_argument(
        "--scope", action="append", default=None, help="scope (default and only one today: stats:read)"
    )
    create.add_argument("--name", default="", help="what the key is for")
    create.add_argument("--expires-days", type=int, default=None, help="expire after D days (default: never)")
    create.add_argument("--rate-limit", type=int, default=None, help="requests per hour (default 600)")
    create.set_defaults(run=create_key)
    listing = keys.add_parser(
        "list", parents=[common], help="list keys (prefix, sites, scopes, expiry, last use)"
    )
    listing.add_argument("site", nargs="?", default=None, help="only this site's keys")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_keys)
    revoke = keys.add_parser("revoke", parents=[common], help="revoke a key by its id (or prefix tlk_<id>)")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=revoke_key)


def create_key(args: argparse.Namespace) -> int:
    from touchline.auth.api_keys import DEFAULT_RATE_LIMIT, ApiKeyStore, InvalidKeyRequest
    from touchline.auth.principal import STATS_READ
    from touchline.config.sites import SiteStore

    if args.org:
        return _create_org_key(args)
    if not args.site:
        raise CliError("name a site, or --org ORG for an account-wide key")
    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        site = SiteStore(client, table).resolve(args.site)
        if site is None:
            raise CliError(f"no site {args.site!r}: touchline sites list shows the registered ones")
        if site.org_id:
            args.org = site.org_id  # an organisation's site: its key is the organisation's, audited
        else:
            try:
                key, record = ApiKeyStore(client, table).create(
                    [site.site_id],
                    args.scope or [STATS_READ],
                    name=args.name,
                    expires_days=args.expires_days,
                    rate_limit=args.rate_limit or DEFAULT_RATE_LIMIT,
                )
            except InvalidKeyRequest as exc:
                raise CliError(str(exc)) from None
    if site.org_id:
        return _create_org_key(args)
    print(key)
    expiry = f", expires {record.expires_at}" if record.expires_at else ""
    print(
        f"key {record.prefix} for {site.domain} ({', '.join(record.scopes)}, "
        f"{record.rate_limit}/hour{expiry}); "
        "shown once, store it now",
        file=sys.stderr,
    )
    return 0


def _create_org_key(args: argparse.Namespace) -> int:
    """Through the accounts domain (the same function as POST /api/v1/orgs/{org}/api-keys)."""
    from touchline.errors import RequestError
    from touchline_dev.cli import accounts

    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        sites = [accounts.find_site(service, args.site).site_id] if args.site else None
        try:
            key, record = service.create_api_key(
                accounts.operator(),
                org_id,
                name=args.name,
                scopes=args.scope or ["stats:read"],
                site_ids=sites,
                expires_days=args.expires_days,
                rate_limit=args.rate_limit,
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(key)
    where = "every site of " + org_id if sites is None else ", ".join(sites)
    print(
        f"key {record.prefix} for {where} ({', '.join(record.scopes)}); shown once, store it now",
        file=sys.stderr,
    )
    return 0


def list_keys(args: argparse.Namespace) -> int:
    from touchline.auth.api_keys import ApiKeyStore
    from touchline.auth.rate_limit import RateLimiter
    from touchline.config.sites import SiteStore

    now = datetime.now(UTC)
    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        site_id = None
        if args.site:
            site = SiteStore(client, table).resolve(args.site)
            if site is None:
                raise CliError(f"no site {args.site!r}: touchline sites list shows the registered ones")
            site_id = site.site_id
        keys = ApiKeyStore(client, table).list(site_id)
        limiter = RateLimiter(client, table)
        rows: list[dict[str, Any]] = [
            {
                "key_id": k.key_id,
                "prefix": k.prefix,
                "name": k.name,
                "sites": list(k.site_ids),
                "scopes": list(k.scopes),
                "rate_limit": k.rate_limit,
                "created_at": k.created_at,
                "expires_at": k.expires_at,
                "last_used_at": limiter.last_used(k.key_id),
                "status": k.status(now),
            }
            for k in keys
        ]
    if args.format == "json":
        print(json.dumps(rows))
        return 0
    for r in rows:
        print(
            "\t".join(
                [
                    r["prefix"],
                    r["status"],
                    ",".join(r["sites"]),
                    ",".join(r["scopes"]),
                    f"{r['rate_limit']}/h",
                    r["name"] or "-",
                    f"created {r['created_at']}",
                    f"expires {r['expires_at'] or 'never'}",
                    f"last used {r['last_used_at'] or 'never'}",
                ]
            )
        )
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    from touchline.auth.api_keys import KEY_PREFIX, ApiKeyStore

    key_id = args.key_id.removeprefix(KEY_PREFIX).split("_", 1)[0]
    directory = context.data_dir(args.data_dir)
    with context.config_table(directory) as (client, table):
        found = ApiKeyStore(client, table).get(key_id)
        org_id = found[0].org_id if found else ""
        record = ApiKeyStore(client, table).revoke(key_id) if found and not org_id else None
    if org_id:
        # An organisation's key: as DELETE /api/v1/orgs/{org}/api-keys/{key}, audited.
        from touchline.errors import RequestError
        from touchline_dev.cli import accounts

        with accounts.accounts(directory) as service:
            try:
                record = service.revoke_api_key(accounts.operator(), org_id, key_id)
            except RequestError as exc:
                raise accounts.fail(exc) from None
    if record is None:
        raise CliError(f"no API key {args.key_id!r}: touchline api-keys list shows them")
    print(f"revoked {record.prefix} ({record.revoked_at})")
    return 0
