"""`touchline annotations add|list|edit|remove`: dated notes on a site's timeline (docs/annotations.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from touchline.accounts.annotations import Annotations
from touchline.accounts.service import Accounts
from touchline.errors import RequestError
from touchline_dev.cli import accounts, context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    notes = commands.add_parser("annotations", help="dated notes drawn on the charts").add_subparsers(
        dest="action", required=True
    )
    add = notes.add_parser("add", parents=[common], help="note something on a day")
    add.add_argument("site", help="site id or domain")
    add.add_argument("date", type=_day, help="YYYY-MM-DD (the site's local day)")
    add.add_argument("content")
    add.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    add.set_defaults(run=add_note)
    listing = notes.add_parser("list", parents=[common], help="a site's notes, oldest first")
    listing.add_argument("site")
    listing.add_argument("--from", dest="since", type=_day)
    listing.add_argument("--to", dest="until", type=_day)
    listing.add_argument("--tag")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_notes)
    edit = notes.add_parser("edit", parents=[common], help="change a note's day, text or tags")
    edit.add_argument("annotation_id")
    edit.add_argument("--date", type=_day)
    edit.add_argument("--content")
    edit.add_argument("--tag", action="append", default=None, help="the new tags (repeatable; replaces)")
    edit.set_defaults(run=edit_note)
    remove = notes.add_parser("remove", parents=[common], help="delete a note")
    remove.add_argument("annotation_id")
    remove.set_defaults(run=remove_note)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def _notes(service: Accounts) -> Annotations:
    assert service.annotation_store is not None
    return Annotations(service, service.annotation_store)


def add_note(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        site = accounts.find_site(service, args.site)
        try:
            note = _notes(service).create(
                accounts.operator(), site.site_id, args.date, args.content, args.tag
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(note.annotation_id)
    return 0


def list_notes(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        site = accounts.find_site(service, args.site)
        found = _notes(service).list(accounts.operator(), site.site_id, args.since, args.until, args.tag)
    if args.format == "json":
        print(json.dumps([note.as_dict() for note in found]))
        return 0
    for note in found:
        tags = ",".join(note.tags)
        print(f"{note.annotation_id}\t{note.note_date.isoformat()}\t{tags}\t{note.content}")
    return 0


def edit_note(args: argparse.Namespace) -> int:
    if args.date is None and args.content is None and args.tag is None:
        raise CliError("nothing to change: give --date, --content or --tag")
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            note = _notes(service).update(
                accounts.operator(),
                args.annotation_id,
                note_date=args.date,
                content=args.content,
                tags=args.tag,
            )
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(json.dumps(note.as_dict()))
    return 0


def remove_note(args: argparse.Namespace) -> int:
    with accounts.accounts(context.data_dir(args.data_dir)) as service:
        try:
            _notes(service).delete(accounts.operator(), args.annotation_id)
        except RequestError as exc:
            raise accounts.fail(exc) from None
    print(f"removed {args.annotation_id}", file=sys.stderr)
    return 0
