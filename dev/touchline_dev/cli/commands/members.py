"""`touchline members invite|list|set|remove`: people in an organisation and their roles."""

from __future__ import annotations

import argparse
import json
from typing import Any

from touchline.accounts.permissions import Role
from touchline.errors import RequestError
from touchline_dev.cli import accounts, context
from touchline_dev.cli.commands.orgs import print_invitation

ROLES = [r.value for r in Role]


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    members = commands.add_parser("members", help="people in an organisation and their roles").add_subparsers(
        dest="action", required=True
    )
    invite = members.add_parser("invite", parents=[common], help="invite someone by email with a role")
    invite.add_argument("org", help="organisation id or name")
    invite.add_argument("email")
    invite.add_argument("--role", choices=ROLES, required=True)
    invite.add_argument("--site", action="append", dest="sites", help="limit to this site (repeatable)")
    invite.set_defaults(run=invite_member)
    listing = members.add_parser("list", parents=[common], help="list an organisation's members")
    listing.add_argument("org")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_members)
    update = members.add_parser("set", parents=[common], help="change a member's role or site access")
    update.add_argument("org")
    update.add_argument("member", help="email or user id")
    update.add_argument("--role", choices=ROLES, default=None)
    sites = update.add_mutually_exclusive_group()
    sites.add_argument("--site", action="append", dest="sites", help="limit to this site (repeatable)")
    sites.add_argument("--all-sites", action="store_true", help="lift a site limit")
    update.set_defaults(run=set_member)
    remove = members.add_parser("remove", parents=[common], help="remove a member")
    remove.add_argument("org")
    remove.add_argument("member", help="email or user id")
    remove.set_defaults(run=remove_member)


def _row(member: Any) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "email": member.email,
        "role": member.role.value,
        "site_ids": sorted(member.site_ids) if member.site_ids is not None else None,
        "created_at": member.created_at,
    }


def invite_member(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        try:
            member, invitation = service.invite_member(
                accounts.operator(), org_id, args.email, Role(args.role), args.sites
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(member.user_id)
    print_invitation(invitation)
    return 0


def list_members(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        rows = [_row(m) for m in service.list_members(accounts.operator(), org_id)]
    if args.format == "json":
        print(json.dumps(rows))
    else:
        for row in rows:
            sites = ",".join(row["site_ids"]) if row["site_ids"] is not None else "all sites"
            print(f"{row['user_id']}\t{row['email']}\t{row['role']}\t{sites}")
    return 0


def set_member(args: argparse.Namespace) -> int:
    sites: Any = None if args.all_sites else (args.sites if args.sites else False)
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        user_id = accounts.find_member(service, org_id, args.member)
        try:
            member = service.update_member(
                accounts.operator(),
                org_id,
                user_id,
                role=Role(args.role) if args.role else None,
                site_ids=sites,
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(json.dumps(_row(member)))
    return 0


def remove_member(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        user_id = accounts.find_member(service, org_id, args.member)
        try:
            service.remove_member(accounts.operator(), org_id, user_id)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"removed {args.member} from {org_id}")
    return 0
