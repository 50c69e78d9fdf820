"""Outgoing webhooks end to end in process: rows in the embedded ClickHouse → the dispatcher
(OutgoingWebhooksFunction on its schedule, as its template role) → moto's queue → the same
function delivering to a real HTTP receiver on this machine that fails, times out and recovers.

Nothing is lost (every event reaches the receiver with a valid signature), duplicates carry the
same id and the same bytes, the delivery log and failure counts say what happened, repeated
failures disable the subscription into the dead-letter queue, and a redrive after re-enabling
delivers what waited there.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from goals_world import hit_row, insert, session_row

from factories import sqs_event
from helpers import TABLE, LambdaContextStub, enforcing_stack, load_handler_module
from touchline.accounts.annotations import AnnotationStore
from touchline.accounts.audit import ListAuditSink
from touchline.accounts.orgs import OrgStore
from touchline.accounts.permissions import Principal
from touchline.accounts.service import Accounts, Caller
from touchline.accounts.shared_links import SharedLinkStore
from touchline.accounts.webhooks import Webhooks
from touchline.aws.cognito import CognitoDirectory
from touchline.aws.sqs import SqsMessageQueue
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.config.watermarks import DynamoWatermarks, Watermark
from touchline.goals.definition import make_goal
from touchline.identity.rows import IdentityLinkRow
from touchline.load import service as load_service
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.outgoing_webhooks import signing, wiring
from touchline.outgoing_webhooks.subscriptions import SubscriptionStore
from touchline.revenue.rows import OrderRow, RefundRow
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.sql import ClientSql

OPERATOR = Caller(Principal.operator("test"))


@dataclass
class Receiver:
    """A webhook endpoint: `plan` says how to answer the n-th request (500, "slow", 200)."""

    plan: list[Any] = field(default_factory=list)
    default: Any = 200
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
        with self.lock:
            n = len(self.received)
            mode = self.plan[n] if n < len(self.plan) else self.default
            try:
                signing.verify(self.secret, body, headers.get("touchline-signature"))
                valid = True
            except signing.SignatureError:
                valid = False
            self.received.append(
                {"body": body, "event": json.loads(body), "headers": headers, "valid": valid, "mode": mode}
            )
        if mode == "slow":
            return 200, 1.5  # processed, but after the sender's timeout
        return int(mode), 0.0

    def accepted_ids(self) -> set[str]:
        """Events the receiver processed (a slow answer was processed, then timed out)."""
        return {r["event"]["id"] for r in self.received if r["valid"] and r["mode"] in (200, "slow")}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status, delay = state.answer(body, {k.lower(): v for k, v in self.headers.items()})
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"nope")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/touchline"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def database(chdb_path: Path) -> str:
    url = f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}"
    migrate(connect(url))
    return url


@dataclass
class World:
    app: ModuleType
    hooks: Webhooks
    site_id: str
    client: Any
    env: dict[str, str]

    def dispatch(self) -> dict[str, Any]:
        result: dict[str, Any] = self.app.handler({"action": "dispatch"}, LambdaContextStub())
        return result

    def pump(self, until: Callable[[], bool], seconds: float = 60.0) -> int:
        """What Lambda's poller does: receive, invoke the function, delete what it did not fail."""
        sqs = boto3.client("sqs")
        url = self.env["TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL"]
        deadline = time.monotonic() + seconds
        batches = 0
        while time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                if until():
                    return batches
                time.sleep(0.2)
                continue
            ids = [m["MessageId"] for m in messages]
            answer = self.app.handler(sqs_event([m["Body"] for m in messages], ids), LambdaContextStub())
            failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] in failed:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            batches += 1
        raise AssertionError("the queue did not drain in time")

    def load_log(self) -> None:
        """The loader's job for the delivery log rows the function queued."""
        sqs = boto3.client("sqs")
        bodies = []
        while True:
            got = sqs.receive_message(QueueUrl=self.env["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
            if not got.get("Messages"):
                break
            for message in got["Messages"]:
                bodies.append(message["Body"])
                sqs.delete_message(
                    QueueUrl=self.env["TOUCHLINE_EVENTS_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
                )
        if bodies:
            answer = load_handler_module("loader").handler(sqs_event(bodies), LambdaContextStub())
            assert answer["batchItemFailures"] == []

    def insert(self, table: str, rows: list[Any]) -> None:
        ClickHouseRowSink(self.client).insert_rows(table, [r.to_json() for r in rows], uuid.uuid4().hex)


@pytest.fixture
def world(aws: dict[str, str], database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    stack = enforcing_stack()
    env = {
        **aws,
        "TOUCHLINE_CLICKHOUSE_URL": database,
        "TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL": stack.queue_url("OutgoingWebhooksQueue"),
        "TOUCHLINE_OUTGOING_WEBHOOKS_DLQ_URL": stack.queue_url("OutgoingWebhooksDeadLetterQueue"),
        "TOUCHLINE_WEBHOOKS_ALLOW_LOOPBACK": "true",
        "TOUCHLINE_WEBHOOKS_TIMEOUT_SECONDS": "0.5",
        "TOUCHLINE_WEBHOOKS_RETRY_BASE_SECONDS": "0",
        "TOUCHLINE_WEBHOOKS_SETTLE_MS": "0",
        "TOUCHLINE_SECRET_CACHE_SECONDS": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    load_service.reset()
    wiring.reset()
    ddb = boto3.client("dynamodb")
    accounts = Accounts(
        orgs=OrgStore(ddb, TABLE),
        sites=SiteStore(ddb, TABLE),
        settings=AttributionSettingsStore(ddb, TABLE),
        integrations=IntegrationStore(ddb, TABLE),
        syncs=SyncIntegrationStore(ddb, TABLE),
        links=SharedLinkStore(ddb, TABLE),
        directory=CognitoDirectory(boto3.client("cognito-idp"), "none", "return"),
        audit=ListAuditSink(),
        secrets=boto3.client("secretsmanager"),
        annotation_store=AnnotationStore(ddb, TABLE),
        webhook_store=SubscriptionStore(ddb, TABLE),
    )
    site = SiteStore(ddb, TABLE).add(f"s{uuid.uuid4().hex[:8]}.example.com")
    hooks = Webhooks(
        accounts,
        SubscriptionStore(ddb, TABLE),
        SqsMessageQueue(boto3.client("sqs"), env["TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL"]),
        allow_loopback=True,
        warehouse=lambda: ClientSql(connect(database)),
    )
    yield World(load_handler_module("outgoing_webhooks"), hooks, site.site_id, connect(database), env)
    wiring.reset()
    load_service.reset()


def order(
    site_id: str, order_id: str, amount: str = "49.90", status: str = "paid", version: int = 1
) -> OrderRow:
    at = datetime.now(UTC)
    return OrderRow(
        site_id=site_id,
        source="api",
        order_id=order_id,
        status=status,  # type: ignore[arg-type]
        ordered_at=at,
        currency="EUR",
        amount=Decimal(amount),
        visitor_id="v-1",
        version=version,
    )


def subscribe(world: World, receiver: Receiver, *events: str) -> str:
    found, secret = world.hooks.create(OPERATOR, world.site_id, receiver.url, list(events))
    receiver.secret = secret
    return found.webhook_id


def test_a_receiver_that_fails_times_out_and_recovers_loses_nothing(world: World, receiver: Receiver) -> None:
    webhook_id = subscribe(world, receiver, "purchase.created", "purchase.refunded", "visitor.identified")
    # Down (500), then too slow (processed, but answered after the timeout), then down again.
    receiver.plan = [500, 500, "slow", 500, "slow", 503]
    orders = [order(world.site_id, f"o-{i}") for i in range(3)]
    # Stripe-like: a pending version then the paid one of the same order → one event.
    world.insert("orders", [order(world.site_id, "o-0", status="pending", version=0), *orders])
    world.insert(
        "refunds",
        [
            RefundRow(
                site_id=world.site_id,
                source="api",
                refund_id="r-1",
                order_id="o-1",
                payment_id="o-1",
                refunded_at=datetime.now(UTC),
                currency="EUR",
                amount=Decimal("10.125"),
                version=1,
            )
        ],
    )
    world.insert(
        "identity_links",
        [
            IdentityLinkRow.between(
                world.site_id, ("visitor", "v-1"), ("user", "42"), "identify", datetime.now(UTC)
            )
        ],
    )
    report = world.dispatch()
    assert report["events"] == {"purchase.created": 3, "purchase.refunded": 1, "visitor.identified": 1}
    assert report["queued"] == 5
    expected = 5
    world.pump(lambda: len(receiver.accepted_ids()) >= expected)
    received = receiver.received
    assert all(r["valid"] for r in received), "every delivery is signed with the subscription's secret"
    ids = receiver.accepted_ids()
    assert len(ids) == expected
    by_id: dict[str, set[bytes]] = {}
    for r in received:
        by_id.setdefault(r["event"]["id"], set()).add(r["body"])
    assert all(len(bodies) == 1 for bodies in by_id.values()), "a retried event is the same bytes"
    assert len(received) > expected, "the failures were retried"
    types = sorted(r["event"]["type"] for r in received if r["mode"] == 200 or r["mode"] == "slow")
    assert set(types) == {"purchase.created", "purchase.refunded", "visitor.identified"}
    purchase = next(r["event"] for r in received if r["event"]["type"] == "purchase.created")
    assert purchase["data"]["order"]["amount"] == "49.90" and purchase["data"]["order"]["currency"] == "EUR"
    refund = next(r["event"] for r in received if r["event"]["type"] == "purchase.refunded")
    assert refund["data"]["refund"]["amount"] == "10.125"
    identified = next(r["event"] for r in received if r["event"]["type"] == "visitor.identified")
    assert identified["data"]["visitor"] == {"type": "visitor", "id": "v-1"}
    assert identified["data"]["identifier"] == {"type": "user", "id": "42"}
    headers = received[-1]["headers"]
    assert headers["touchline-event-id"] == received[-1]["event"]["id"]
    assert int(headers["touchline-delivery-attempt"]) >= 1
    # The subscription recovered: the failure count restarted with the last success.
    state = world.hooks.get(OPERATOR, webhook_id)
    assert state.active and state.failure_count == 0 and state.last_status == 200
    # A second dispatch finds nothing new (watermarks moved); the same rows again would be the same ids.
    assert world.dispatch()["queued"] == 0
    # The delivery log: every attempt, with its outcome.
    world.load_log()
    log = world.hooks.deliveries(OPERATOR, webhook_id, limit=200)
    outcomes = [d["outcome"] for d in log]
    assert outcomes.count("delivered") >= expected and "failed" in outcomes
    failed = [d for d in log if d["outcome"] == "failed"]
    assert any(d["http_status"] == 500 for d in failed)
    assert any("timed out" in d["error"] for d in failed)


def test_repeated_failures_disable_into_the_dead_letter_queue_and_a_redrive_delivers(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUCHLINE_WEBHOOKS_DISABLE_AFTER", "3")
    wiring.reset()
    webhook_id = subscribe(world, receiver, "purchase.created")
    receiver.default = 500
    world.insert("orders", [order(world.site_id, "d-1"), order(world.site_id, "d-2")])
    assert world.dispatch()["queued"] == 2
    dlq = world.env["TOUCHLINE_OUTGOING_WEBHOOKS_DLQ_URL"]
    sqs = boto3.client("sqs")

    def dead() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    world.pump(lambda: dead() >= 2)
    state = world.hooks.get(OPERATOR, webhook_id)
    # Deliveries fail in parallel: the one that disables it may have counted the 3rd or the 4th.
    assert not state.active and "consecutive failed deliveries" in state.disabled_reason
    assert state.failure_count >= 3
    # The receiver is fixed; the owner re-enables it and redrives the dead letters.
    receiver.default = 200
    world.hooks.update(OPERATOR, webhook_id, active=True)
    moved = 0
    while True:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)
        if not got.get("Messages"):
            break
        for message in got["Messages"]:
            sqs.send_message(
                QueueUrl=world.env["TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL"], MessageBody=message["Body"]
            )
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    assert moved == 2
    world.pump(lambda: len(receiver.accepted_ids()) == 2)
    assert {r["event"]["data"]["order"]["order_id"] for r in receiver.received if r["mode"] == 200} == {
        "d-1",
        "d-2",
    }


def test_send_test_event_and_unsafe_targets(world: World, receiver: Receiver) -> None:
    webhook_id = subscribe(world, receiver, "purchase.created")
    event = world.hooks.send_test(OPERATOR, webhook_id)
    world.pump(lambda: len(receiver.received) >= 1)
    [got] = receiver.received
    assert got["valid"] and got["event"]["id"] == event.id and got["event"]["type"] == "webhook.test"
    assert got["event"]["livemode"] is False
    # Production rules: no loopback, no private ranges, no metadata service, https only.
    strict = Webhooks(world.hooks.accounts, world.hooks.store, world.hooks.queue, allow_loopback=False)
    for url in (
        receiver.url,
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "http://93.184.216.34/hook",
        "https://user:pw@93.184.216.34/hook",
        "ftp://93.184.216.34/",
    ):
        with pytest.raises(Exception) as refused:
            strict.create(OPERATOR, world.site_id, url, ["purchase.created"])
        assert getattr(refused.value, "status", None) == 400, url


def test_attribution_updated_only_when_an_orders_credits_change(world: World, receiver: Receiver) -> None:
    webhook_id = subscribe(world, receiver, "attribution.updated")
    watermarks = DynamoWatermarks(boto3.client("dynamodb"), TABLE)

    def credits(version: int, split: tuple[str, str], deleted: int = 0) -> None:
        rows = []
        for index, (channel, share) in enumerate(zip(("Email", "Paid Search"), split, strict=True), start=1):
            rows.append(
                {
                    "site_id": world.site_id,
                    "conversion_id": "api:a-1",
                    "conversion_kind": "order",
                    "conversion_name": "",
                    "person_id": "visitor:v-1",
                    "converted_at": "2026-11-30 10:00:00.000",
                    "model": "linear",
                    "touch_index": index,
                    "touch_count": 2,
                    "session_id": f"s{index}",
                    "visitor_id": "v-1",
                    "touch_at": "2026-11-29 10:00:00.000",
                    "channel": channel,
                    "source": channel.lower(),
                    "medium": "",
                    "campaign": "",
                    "content": "",
                    "term": "",
                    "device_type": "desktop",
                    "credit": float(Decimal(share) / Decimal("100")),
                    "currency": "EUR",
                    "revenue": "100",
                    "attributed_revenue": share,
                    "version": version,
                    "is_deleted": deleted,
                }
            )
        world.client.insert(
            "attribution_credits",
            [list(r.values()) for r in rows],
            column_names=list(rows[0].keys()),
        )

    credits(1000, ("50", "50"))
    watermarks.put(world.site_id, "aggregate", Watermark(1000, 1000))
    assert world.dispatch()["queued"] == 0, "the first pass remembers the credits as they are"
    credits(2000, ("50", "50"))  # a run that rewrote the same credits
    watermarks.put(world.site_id, "aggregate", Watermark(2000, 2000))
    assert world.dispatch()["queued"] == 0
    credits(3000, ("30", "70"))  # a run that moved credit
    assert world.dispatch()["queued"] == 0, "not before the run that wrote them completed"
    watermarks.put(world.site_id, "aggregate", Watermark(3000, 3000))
    assert world.dispatch()["queued"] == 1
    assert world.dispatch()["queued"] == 0
    world.pump(lambda: len(receiver.received) >= 1)
    [got] = receiver.received
    event = got["event"]
    assert event["type"] == "attribution.updated" and got["valid"]
    assert event["data"]["order"] == {"source": "api", "order_id": "a-1", "conversion_id": "api:a-1"}
    linear = event["data"]["models"]["linear"]
    assert [(t["channel"], t["attributed_revenue"]) for t in linear] == [
        ("Email", "30.00"),
        ("Paid Search", "70.00"),
    ]
    assert world.hooks.get(OPERATOR, webhook_id).failure_count == 0


def test_goal_completed_once_per_completion_after_sessionisation_and_again_the_same_after_a_rerun(
    world: World, receiver: Receiver
) -> None:
    webhook_id = subscribe(world, receiver, "goal.completed")
    ddb = boto3.client("dynamodb")
    goals = AttributionSettingsStore(ddb, TABLE)
    goals.add_goal(
        world.site_id,
        make_goal(
            "Pricing", track_method="page_url", page_pattern="/pricing*", value=Decimal("2"), currency="EUR"
        ),
    )
    goals.add_goal(world.site_id, make_goal("Pro", event_name="Signup", properties={"plan": "pro"}))
    watermarks = DynamoWatermarks(ddb, TABLE)
    now = datetime.now(UTC)
    at = now - timedelta(minutes=2)
    pricing_hit, signup_hit = uuid.uuid4(), uuid.uuid4()
    hits = [
        hit_row(world.site_id, "v-1", at, "/pricing", event_id=pricing_hit),
        hit_row(
            world.site_id,
            "v-1",
            at + timedelta(seconds=30),
            "/signup",
            "Signup",
            event_id=signup_hit,
            props={"plan": "pro"},
        ),
        hit_row(world.site_id, "v-2", at, "/signup", "Signup", props={"plan": "free"}),  # no goal
        hit_row(world.site_id, "v-2", at, "/blog"),  # no goal
    ]
    ClickHouseRowSink(world.client).insert_rows("events", hits, uuid.uuid4().hex)
    assert world.dispatch()["queued"] == 0, "no aggregation run has sessionised the hits yet"
    # The aggregation's run: the visitors' sessions, then its watermark (its start).
    insert(world.client, "sessions", [session_row(world.site_id, "v-1", at, "newsletter", campaign="dec")])
    watermarks.put(world.site_id, "aggregate", Watermark(int(time.time() * 1000), 1))
    report = world.dispatch()
    assert report["events"] == {"goal.completed": 2} and report["queued"] == 2
    assert world.dispatch()["queued"] == 0, "a second run reads nothing new"
    # A run that queued its deliveries but died before moving its watermark is read again.
    mark = watermarks.get(world.site_id, "webhooks:goals")
    assert mark is not None
    watermarks.put(world.site_id, "webhooks:goals", Watermark(mark.position_ms - 10 * 60_000, 0))
    assert world.dispatch()["queued"] == 2
    receiver.plan = [500]
    world.pump(lambda: len(receiver.accepted_ids()) == 2 and len(receiver.received) >= 5)
    assert all(r["valid"] for r in receiver.received)
    by_id: dict[str, set[bytes]] = {}
    for r in receiver.received:
        by_id.setdefault(r["event"]["id"], set()).add(r["body"])
    assert len(by_id) == 2, "each completion has one event id, however often it is sent"
    assert all(len(bodies) == 1 for bodies in by_id.values()), "and the same bytes"
    events = {
        e["data"]["conversion"]["goal"]["name"]: e for e in (json.loads(b.pop()) for b in by_id.values())
    }
    pricing, pro = events["Pricing"]["data"]["conversion"], events["Pro"]["data"]["conversion"]
    assert events["Pricing"]["type"] == "goal.completed"
    assert pricing["conversion_id"].endswith(f":{pricing_hit}") and pro["conversion_id"].endswith(
        f":{signup_hit}"
    )
    assert (pricing["value"], pricing["currency"]) == ("2.00", "EUR")
    assert (pro["value"], pro["currency"]) == (None, None)
    assert pricing["source"] == pro["source"] == "newsletter" and pricing["campaign"] == "dec"
    assert pricing["session_id"] and pricing["session_id"] == pro["session_id"]
    assert pricing["visitor_id"] == "v-1" and pricing["converted_at"].startswith(
        at.strftime("%Y-%m-%dT%H:%M")
    )
    assert world.hooks.get(OPERATOR, webhook_id).failure_count == 0
