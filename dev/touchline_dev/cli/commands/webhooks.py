"""`touchline webhooks add|list|show|set|remove|test|deliveries|dispatch`: a site's outgoing
webhooks (docs/webhooks.md), through the same functions as `/api/v1/webhooks`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from touchline.accounts.webhooks import Webhooks
from touchline.errors import RequestError
from touchline.outgoing_webhooks.events import EVENT_TYPES
from touchline_dev.cli import accounts, context
from touchline_dev.cli.errors import CliError


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    hooks = commands.add_parser("webhooks", help="a site's outgoing webhooks").add_subparsers(
        dest="action", required=True
    )
    add = hooks.add_parser("add", parents=[common], help="subscribe a URL (prints the signing secret once)")
    add.add_argument("site", help="site id or domain")
    add.add_argument("url")
    add.add_argument(
        "--event", action="append", required=True, choices=EVENT_TYPES, help="an event type (repeatable)"
    )
    add.add_argument("--description", default="")
    add.set_defaults(run=add_webhook)
    listing = hooks.add_parser("list", parents=[common], help="a site's webhooks and their state")
    listing.add_argument("site")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=list_webhooks)
    show = hooks.add_parser("show", parents=[common], help="one webhook (JSON)")
    show.add_argument("webhook_id")
    show.set_defaults(run=show_webhook)
    change = hooks.add_parser("set", parents=[common], help="change the URL or events; disable or enable")
    change.add_argument("webhook_id")
    change.add_argument("--url")
    change.add_argument("--event", action="append", choices=EVENT_TYPES, help="the new events (repeatable)")
    change.add_argument("--description")
    state = change.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="active", action="store_const", const=True)
    state.add_argument("--disable", dest="active", action="store_const", const=False)
    change.set_defaults(run=set_webhook, active=None)
    remove = hooks.add_parser("remove", parents=[common], help="delete a webhook and its secret")
    remove.add_argument("webhook_id")
    remove.set_defaults(run=remove_webhook)
    test = hooks.add_parser("test", parents=[common], help="send a webhook.test event now")
    test.add_argument("webhook_id")
    test.set_defaults(run=send_test)
    log = hooks.add_parser("deliveries", parents=[common], help="the delivery log, newest first")
    log.add_argument("webhook_id")
    log.add_argument("--limit", type=int, default=20)
    log.add_argument("--event", help="one event id")
    log.add_argument("--format", choices=["table", "json"], default="table")
    log.set_defaults(run=deliveries)
    dispatch = hooks.add_parser(
        "dispatch", parents=[common], help="queue deliveries for what happened since the last run, now"
    )
    dispatch.add_argument("--site", default=None, help="one site (default: every site with webhooks)")
    dispatch.set_defaults(run=dispatch_now)


@contextmanager
def _webhooks(args: argparse.Namespace) -> Iterator[Webhooks]:
    directory = context.data_dir(args.data_dir)
    with accounts.accounts(directory) as service:
        assert service.webhook_store is not None
        yield Webhooks(
            service,
            service.webhook_store,
            _queue(directory),
            allow_loopback=not os.environ.get("TOUCHLINE_CONFIG_TABLE"),  # the local stack's rule
            warehouse=service.warehouse,
        )


def _queue(directory: Any) -> Any:
    """The outgoing webhooks queue: the deployed stack's, or the running local stack's."""
    from touchline.aws.sqs import SqsMessageQueue

    deployed = os.environ.get("TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL")
    if os.environ.get("TOUCHLINE_CONFIG_TABLE"):
        if not deployed:
            return None
        import boto3

        return SqsMessageQueue(boto3.client("sqs"), deployed)
    if context.running_stack(directory) is None:
        return None
    from touchline_dev.devstack.state import local_aws

    with local_aws(directory) as aws:
        return SqsMessageQueue(aws.client("sqs"), aws.queue_url("OutgoingWebhooksQueue"))


def _fail(exc: RequestError) -> CliError:
    return accounts.fail(exc)


def add_webhook(args: argparse.Namespace) -> int:
    with _webhooks(args) as hooks:
        site = accounts.find_site(hooks.accounts, args.site)
        try:
            found, secret = hooks.create(
                accounts.operator(), site.site_id, args.url, args.event, args.description
            )
        except RequestError as exc:
            raise _fail(exc) from None
    print(secret)
    print(
        f"webhook {found.webhook_id} → {found.url} ({', '.join(sorted(found.events))}). The signing "
        "secret above is shown once: verify Touchline-Signature with it (docs/webhooks.md).",
        file=sys.stderr,
    )
    return 0


def list_webhooks(args: argparse.Namespace) -> int:
    with _webhooks(args) as hooks:
        site = accounts.find_site(hooks.accounts, args.site)
        found = hooks.of_site(accounts.operator(), site.site_id)
    if args.format == "json":
        print(json.dumps([w.as_dict() for w in found]))
        return 0
    for w in found:
        state = "active" if w.active else f"disabled ({w.disabled_reason})"
        print(f"{w.webhook_id}\t{w.url}\t{','.join(sorted(w.events))}\t{state}\tfailures={w.failure_count}")
    return 0


def show_webhook(args: argparse.Namespace) -> int:
    with _webhooks(args) as hooks:
        try:
            found = hooks.get(accounts.operator(), args.webhook_id)
        except RequestError as exc:
            raise _fail(exc) from None
    print(json.dumps(found.as_dict(), indent=1))
    return 0


def set_webhook(args: argparse.Namespace) -> int:
    if args.url is None and args.event is None and args.description is None and args.active is None:
        raise CliError("nothing to change: give --url, --event, --description, --enable or --disable")
    with _webhooks(args) as hooks:
        try:
            found = hooks.update(
                accounts.operator(),
                args.webhook_id,
                url=args.url,
                events=args.event,
                description=args.description,
                active=args.active,
            )
        except RequestError as exc:
            raise _fail(exc) from None
    print(json.dumps(found.as_dict(), indent=1))
    return 0


def remove_webhook(args: argparse.Namespace) -> int:
    with _webhooks(args) as hooks:
        try:
            hooks.delete(accounts.operator(), args.webhook_id)
        except RequestError as exc:
            raise _fail(exc) from None
    print(f"removed {args.webhook_id}", file=sys.stderr)
    return 0


def send_test(args: argparse.Namespace) -> int:
    with _webhooks(args) as hooks:
        if hooks.queue is None:
            raise CliError(
                "no stack to deliver it: start touchline dev (or set TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL)"
            )
        try:
            event = hooks.send_test(accounts.operator(), args.webhook_id)
        except RequestError as exc:
            raise _fail(exc) from None
    print(event.id)
    print(f"queued {event.type}; see touchline webhooks deliveries {args.webhook_id}", file=sys.stderr)
    return 0


def deliveries(args: argparse.Namespace) -> int:
    with _webhooks(args) as hooks:
        try:
            found = hooks.deliveries(accounts.operator(), args.webhook_id, args.limit, args.event)
        except RequestError as exc:
            raise _fail(exc) from None
    if args.format == "json":
        print(json.dumps(found))
        return 0
    for d in found:
        status = d["http_status"] or "-"
        retry = f"\tretry in {d['retry_in_seconds']} s" if d["retry_in_seconds"] else ""
        print(
            f"{d['attempted_at']}\t{d['event_type']}\t{d['event_id']}\t#{d['attempt']}\t{d['outcome']}"
            f"\t{status}\t{d['duration_ms']} ms\t{d['error']}{retry}"
        )
    return 0


def dispatch_now(args: argparse.Namespace) -> int:
    directory = context.data_dir(args.data_dir)
    stack = context.running_stack(directory)
    if stack is None:
        raise CliError(
            "webhooks are dispatched by the running stack: start touchline dev (deployed: every minute)"
        )
    from touchline_dev.devstack.state import call_stack

    event = {"action": "dispatch", "site": args.site}
    status, body = call_stack(stack, "/_dev/invoke", {"function": "OutgoingWebhooksFunction", "event": event})
    if status != 200:
        raise CliError(f"dispatch failed: {body.decode(errors='replace')}")
    print(json.dumps(json.loads(body)["result"], indent=1))
    return 0
