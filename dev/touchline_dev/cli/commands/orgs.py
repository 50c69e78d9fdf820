"""`touchline orgs create|list|set`: organisations, which own sites and hold people with roles."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from touchline.errors import RequestError
from touchline_dev.cli import accounts, context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    orgs = commands.add_parser(
        "orgs", help="organisations: create, list, rename, event limit"
    ).add_subparsers(dest="action", required=True)
    create = orgs.add_parser("create", parents=[common], help="create an organisation and invite its owner")
    create.add_argument("name")
    create.add_argument("--owner", required=True, help="the owner's email (invited through Cognito if new)")
    create.set_defaults(run=create_org)
    listing = orgs.add_parser("list", parents=[common], help="list organisations")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_orgs)
    update = orgs.add_parser("set", parents=[common], help="rename, or set the monthly event limit")
    update.add_argument("org", help="organisation id or name")
    update.add_argument("--name", default=None)
    update.add_argument(
        "--event-limit",
        default=None,
        help="monthly events before a warning (nothing is dropped); 'none' removes it",
    )
    update.set_defaults(run=set_org)


def create_org(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            org, invitation = service.create_org(accounts.operator(), args.name, args.owner)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(org.org_id)
    print(f"created {org.name} ({org.org_id}) owned by {args.owner}", file=sys.stderr)
    if invitation is not None:
        print_invitation(invitation)
    return 0


def print_invitation(invitation: Any) -> None:
    if not invitation.created:
        print(f"{invitation.email} already has an account; they sign in as before", file=sys.stderr)
    elif invitation.temporary_password:
        print(
            f"{invitation.email} signs in with the temporary password {invitation.temporary_password} "
            "(shown once; the first sign-in asks for a new one)",
            file=sys.stderr,
        )
    else:
        print(f"Cognito emailed {invitation.email} a temporary password", file=sys.stderr)


def list_orgs(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        orgs = service.list_orgs(accounts.operator())
        rows = [
            {
                "org_id": o.org_id,
                "name": o.name,
                "created_at": o.created_at,
                "event_limit": o.event_limit,
                "sites": len(service.orgs.site_ids(o.org_id)),
                "members": len(service.orgs.members(o.org_id)),
            }
            for o in orgs
        ]
    if args.format == "json":
        print(json.dumps(rows))
    else:
        for row in rows:
            limit = row["event_limit"] if row["event_limit"] is not None else "-"
            print(f"{row['org_id']}\t{row['name']}\t{row['sites']} sites\t{row['members']} members\t{limit}")
    return 0


def set_org(args: argparse.Namespace) -> int:
    limit: int | bool | None = False
    if args.event_limit is not None:
        if args.event_limit.lower() == "none":
            limit = None
        else:
            try:
                limit = int(args.event_limit)
            except ValueError:
                raise CliError("--event-limit is a number of events, or 'none'") from None
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        try:
            org = service.update_org(accounts.operator(), org_id, name=args.name, event_limit=limit)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    limit_text = org.event_limit if org.event_limit is not None else "none"
    print(f"{org.org_id}: {org.name}, monthly event limit {limit_text}")
    return 0
