"""`touchline shared-links create|list|revoke`: read-only links to one site's dashboard."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from touchline.errors import RequestError
from touchline_dev.cli import accounts, context


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    links = commands.add_parser("shared-links", help="read-only links to a site's stats").add_subparsers(
        dest="action", required=True
    )
    create = links.add_parser("create", parents=[common], help="create a link (shown once)")
    create.add_argument("site", help="site id or domain")
    create.add_argument("--name", default="")
    create.add_argument(
        "--password", action="store_true", help="protect it with a password (asked for, or read from stdin)"
    )
    create.set_defaults(run=create_link)
    listing = links.add_parser("list", parents=[common], help="a site's links (never the links themselves)")
    listing.add_argument("site")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_links)
    revoke = links.add_parser("revoke", parents=[common], help="revoke a link by its id")
    revoke.add_argument("site")
    revoke.add_argument("link_id")
    revoke.set_defaults(run=revoke_link)


def _password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("shared link password: ")
    return sys.stdin.readline().rstrip("\n")


def create_link(args: argparse.Namespace) -> int:
    password = _password() if args.password else None
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        site = accounts.find_site(service, args.site)
        try:
            token, link = service.create_shared_link(accounts.operator(), site.site_id, args.name, password)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(token)
    protected = " (password protected)" if link.protected else ""
    print(
        f"shared link {link.link_id} for {site.domain}{protected}: shown once. Open "
        f"<dashboard>/share/{token}, or exchange it at POST /api/v1/shared-links/session",
        file=sys.stderr,
    )
    return 0


def list_links(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        site = accounts.find_site(service, args.site)
        links = service.list_shared_links(accounts.operator(), site.site_id)
    rows = [
        {
            "link_id": link.link_id,
            "name": link.name,
            "password_protected": link.protected,
            "created_at": link.created_at,
            "status": "revoked" if link.revoked else "active",
        }
        for link in links
    ]
    if args.format == "json":
        print(json.dumps(rows))
    else:
        for row in rows:
            lock = "password" if row["password_protected"] else "open"
            print(f"{row['link_id']}\t{row['name']}\t{lock}\t{row['created_at']}\t{row['status']}")
    return 0


def revoke_link(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        site = accounts.find_site(service, args.site)
        try:
            service.revoke_shared_link(accounts.operator(), site.site_id, args.link_id)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"revoked {args.link_id}; it stops working within a minute (the cache)", file=sys.stderr)
    return 0
