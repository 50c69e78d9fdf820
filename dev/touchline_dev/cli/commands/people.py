"""`touchline people export|delete`: GDPR access and erasure for one person (docs/identity.md)."""

from __future__ import annotations

import argparse
import json
import sys
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
        ("delete", run_delete, "delete a person, their links and their events from every table"),
    ):
        parser = people.add_parser(action, parents=[common], help=text)
        parser.add_argument("--site", required=True, help="site id or domain")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user-id", default=None)
        who.add_argument("--email", default=None)
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

    sql, subject = _subject(args)
    print(json.dumps(export(sql, subject), indent=1, default=str))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from touchline.config.personal_items import delete_config_items
    from touchline.identity.gdpr import delete

    sql, subject = _subject(args)
    deleted = delete(sql, subject)
    with context.config_table(context.data_dir(args.data_dir)) as (client, table):
        config_items = delete_config_items(client, table, subject)
    if config_items:
        deleted["dynamodb:config"] = config_items
    print(
        json.dumps({"site_id": subject.site_id, "person_ids": sorted(subject.person_ids), "deleted": deleted})
    )
    if not deleted:
        print("nothing stored for that person", file=sys.stderr)
    return 0
