"""`touchline audit --org ORG`: the organisation's audit log, newest first."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from touchline.accounts.audit import AuditQuery
from touchline.errors import RequestError
from touchline_dev.cli import accounts, context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    audit = commands.add_parser("audit", parents=[common], help="an organisation's audit log")
    audit.add_argument("--org", required=True, help="organisation id or name")
    audit.add_argument("--site", default=None, help="only this site id")
    audit.add_argument("--action", default=None, help="e.g. member.invite, auth.sign_in, site.update")
    audit.add_argument("--outcome", choices=["success", "denied"], default=None)
    audit.add_argument("--since", default=None, help="ISO date or time (UTC)")
    audit.add_argument("--limit", type=int, default=100)
    audit.add_argument("--format", choices=["table", "json"], default="table")
    audit.set_defaults(run=show_audit)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--since must be an ISO date or time, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def show_audit(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        org_id = accounts.find_org(service, args.org)
        query = AuditQuery(
            org_id, args.site, args.action, None, args.outcome, _since(args.since), None, args.limit
        )
        try:
            entries = service.read_audit(accounts.operator(), query)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    if args.format == "json":
        print(json.dumps(entries))
        return 0
    for e in entries:
        actor = e["actor_email"] or f"{e['actor_type']}:{e['actor_id']}"
        target = f"{e['target_type']}:{e['target_id']}" if e["target_type"] else ""
        print(
            f"{e['at']}\t{e['outcome']}\t{e['action']}\t{actor}\t{target}\t{e['site_id']}\t{e['source_ip']}"
        )
    return 0
