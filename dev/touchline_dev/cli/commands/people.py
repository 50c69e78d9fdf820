"""`touchline people export|delete|unsuppress`: GDPR access and erasure for one person, and
lifting the suppression a deletion leaves (docs/identity.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError
from touchline_dev.cli.warehouse_sql import warehouse_sql


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    people = commands.add_parser("people", help="GDPR: export or delete one person").add_subparsers(
        dest="action", required=True
    )
    for action, run, text in (
        ("export", run_export, "print everything stored about a person as JSON"),
        ("delete", run_delete, "delete a person from every table and suppress their identifiers"),
        ("unsuppress", run_unsuppress, "accept a deleted person's identifiers again"),
    ):
        parser = people.add_parser(action, parents=[common], help=text)
        parser.add_argument("--site", required=True, help="site id or domain")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user-id", default=None)
        who.add_argument("--email", default=None)
        if action != "unsuppress":
            parser.add_argument(
                "--reference",
                default="",
                help="your reference for it (a ticket id; no personal data), kept in privacy_requests",
            )
        parser.set_defaults(run=run)


def _subject(args: argparse.Namespace) -> Any:
    from touchline.identity.gdpr import find_subject

    sql = warehouse_sql(context.data_dir(args.data_dir))
    try:
        return sql, find_subject(sql, args.site, user_id=args.user_id, email=args.email)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def run_export(args: argparse.Namespace) -> int:
    from touchline.identity.gdpr import export
    from touchline.identity.privacy_requests import of_subject

    asked = datetime.now(UTC)
    sql, subject = _subject(args)
    found = export(sql, subject)
    found["privacy_requests"] = of_subject(sql, subject)
    _record(
        args, sql, subject.site_id, "export", asked, {t: len(rows) for t, rows in found["tables"].items()}
    )
    print(json.dumps(found, indent=1, default=str))
    return 0


def _record(
    args: argparse.Namespace, sql: Any, site_id: str, kind: str, asked: datetime, rows: dict[str, int]
) -> None:
    """The request in `privacy_requests`: who ran it, when, what it found (docs/identity.md)."""
    from touchline.identity.privacy_requests import record, subject_of
    from touchline_dev.cli.accounts import operator

    subject = subject_of(user_id=args.user_id, email=args.email)
    requested_by = operator().principal.id
    record(
        sql,
        site_id,
        kind,
        subject,
        requested_by=requested_by,
        requested_at=asked,
        rows=rows,
        reference=args.reference,
    )


def run_delete(args: argparse.Namespace) -> int:
    from touchline.config.personal_items import delete_config_items
    from touchline.config.suppressions import SuppressionStore
    from touchline.identity.gdpr import delete
    from touchline.identity.suppression import suppression_keys

    asked = datetime.now(UTC)
    sql, subject = _subject(args)
    deleted = delete(sql, subject)
    keys = suppression_keys(subject.identifiers | {("email_sha256", h) for h in subject.email_hashes})
    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        config_items = delete_config_items(client, table, subject)
        # New events under these identifiers are not stored again (collector, API, webhooks).
        suppressed = SuppressionStore(client, table).add(subject.site_id, keys, _deletion(args))
    if config_items:
        deleted["dynamodb:config"] = config_items
    _record(args, sql, subject.site_id, "delete", asked, deleted)
    print(
        json.dumps(
            {
                "site_id": subject.site_id,
                "person_ids": sorted(subject.person_ids),
                "deleted": deleted,
                "suppressed": suppressed,
            }
        )
    )
    if not deleted:
        print("nothing stored for that person", file=sys.stderr)
    return 0


def run_unsuppress(args: argparse.Namespace) -> int:
    from touchline.config.suppressions import SuppressionStore

    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        lifted = SuppressionStore(client, table).remove(args.site, _deletion(args))
    if not lifted:
        raise CliError(
            f"nothing suppressed on {args.site} for that person (touchline people delete suppresses)"
        )
    print(json.dumps({"site_id": args.site, "unsuppressed": lifted}))
    return 0


def _deletion(args: argparse.Namespace) -> str:
    """Which deletion a suppression came from: what `people delete` was given."""
    from touchline.identity.rows import email_sha256

    return f"user:{args.user_id}" if args.user_id else f"email:{email_sha256(args.email)}"
