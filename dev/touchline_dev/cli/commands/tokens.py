"""`touchline tokens create|list|revoke`: API tokens for `POST /api/v1/payments`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser("tokens", help="API tokens for the payments API").add_subparsers(
        dest="action", required=True
    )
    create = group.add_parser("create", parents=[common], help="create a token for a site; shown once")
    create.add_argument("site", help="site id or domain (touchline sites list)")
    create.add_argument("--name", default="", help="a label to recognise the token by")
    create.set_defaults(run=create_token)
    listing = group.add_parser("list", parents=[common], help="list tokens (ids and prefixes only)")
    listing.add_argument("site", nargs="?", default=None)
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_tokens)
    revoke = group.add_parser("revoke", parents=[common], help="revoke a token by its id (tokens list)")
    revoke.add_argument("token_id")
    revoke.set_defaults(run=revoke_token)


def create_token(args: argparse.Namespace) -> int:
    from touchline.config.tokens import TokenStore

    with context.config_table(context.data_dir(args.data_dir)) as (dynamodb, table):
        context.require_site(dynamodb, table, args.site)
        token, record = TokenStore(dynamodb, table).create(args.site, args.name)
    print(token)
    print(
        f"token {record.token_id}: shown once and stored only as a hash; send it as "
        "'Authorization: Bearer <token>' to POST /api/v1/payments (touchline tokens revoke "
        f"{record.token_id} to stop it)",
        file=sys.stderr,
    )
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    from touchline.config.tokens import TokenStore

    with context.config_table(context.data_dir(args.data_dir)) as (dynamodb, table):
        tokens = TokenStore(dynamodb, table).list(args.site)
    if args.format == "json":
        print(json.dumps([asdict(token) for token in tokens]))
    else:
        for token in tokens:
            status = "revoked" if token.revoked else "active"
            print(
                f"{token.token_id}\t{token.prefix}…\t{token.site_id}\t{token.name}\t{token.created_at}\t{status}"
            )
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    from touchline.config.tokens import TokenStore, UnknownToken

    with context.config_table(context.data_dir(args.data_dir)) as (dynamodb, table):
        try:
            record = TokenStore(dynamodb, table).revoke(args.token_id)
        except UnknownToken as exc:
            raise CliError(str(exc)) from None
    print(
        f"revoked {record.token_id} ({record.site_id}); POST /api/v1/payments refuses it within "
        "TOUCHLINE_SITE_CACHE_SECONDS (60 s by default)",
        file=sys.stderr,
    )
    return 0
