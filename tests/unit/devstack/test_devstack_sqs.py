"""The SQS event source mapping against moto and against the stack's in-process queues
(`local_sqs`): event shape, batching, partial failures, redrive; both must behave alike."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.lambda_runtime import LocalFunction
from touchline_dev.devstack.local_sqs import LocalQueues
from touchline_dev.devstack.moto_backend import MotoServer
from touchline_dev.devstack.queue_journal import QueueJournal
from touchline_dev.devstack.resources import LocalResources, QueueInfo
from touchline_dev.devstack.sqs_poller import (
    QueueTarget,
    SqsPoller,
    failed_message_ids,
    queue_depth,
    sqs_record,
)
from touchline_dev.devstack.template import FunctionSpec, load_template


class FakeHandler:
    """Fails the bodies starting with `fail`, raises on `raise`; remembers every event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if any(r["body"] == "raise" for r in event["Records"]):
            raise RuntimeError("boom")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"].startswith("fail")
            ]
        }


def _function(handler: FakeHandler, tmp_path: Path) -> LocalFunction:
    spec = FunctionSpec("WorkerFunction", tmp_path, "app.handler", "python3.11", 30, 256, {}, [])
    function = LocalFunction(spec, name="touchline-WorkerFunction", environment={})
    function._handler = handler
    return function


# What the pollers of a "direct" run talk to: the stack's own path (local_sqs.DirectSqs).
_DIRECT: dict[str, Any] = {}


@pytest.fixture(params=["moto", "local", "direct"])
def queues(
    request: pytest.FixtureRequest, moto: MotoServer, sqs: Any, fixture_template: Path, tmp_path: Path
) -> Iterator[dict[str, QueueInfo]]:
    resources = LocalResources(load_template(fixture_template), endpoint_url=moto.url)
    created = {q.logical_id: q for q in resources.create_queues(sqs)}
    if request.param == "moto":
        yield created
        return
    journal = QueueJournal(tmp_path / "queues.db")
    local = LocalQueues(journal, moto.url, "us-east-1", "123456789012")
    for q in created.values():
        attributes = sqs.get_queue_attributes(QueueUrl=q.url, AttributeNames=["All"])["Attributes"]
        local.add_queue(q.name, q.url, q.arn, q.logical_id, attributes)
    local.install()
    if request.param == "direct":
        _DIRECT.update({q.url: local.direct(q.url) for q in created.values()})
    try:
        yield created
    finally:
        _DIRECT.clear()
        local.uninstall()
        journal.close()


def _poller(sqs: Any, function: LocalFunction, queue: QueueInfo, **kwargs: Any) -> SqsPoller:
    options: dict[str, Any] = {"batch_size": 10, "report_batch_item_failures": True, "poll_wait_seconds": 0}
    options.update(kwargs)
    target = QueueTarget(queue.url, queue.arn, "us-east-1")
    return SqsPoller(_DIRECT.get(queue.url, sqs), function, target, **options)


def test_queues_are_created_with_their_redrive_policy(sqs: Any, queues: dict[str, QueueInfo]) -> None:
    attributes = sqs.get_queue_attributes(QueueUrl=queues["WorkQueue"].url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "360"
    assert '"maxReceiveCount": 3' in attributes["RedrivePolicy"]
    assert queues["WorkDeadLetterQueue"].arn in attributes["RedrivePolicy"]


def test_sqs_event_record_shape(sqs: Any, queues: dict[str, QueueInfo], tmp_path: Path) -> None:
    queue = queues["WorkQueue"]
    sqs.send_message(
        QueueUrl=queue.url,
        MessageBody='{"v": 1}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "event"}},
    )
    handler = FakeHandler()
    assert _poller(sqs, _function(handler, tmp_path), queue).poll_once() is not None
    (record,) = handler.events[0]["Records"]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert record["body"] == '{"v": 1}'
    assert record["md5OfBody"] == hashlib.md5(b'{"v": 1}').hexdigest()
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["awsRegion"] == "us-east-1"
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert all(isinstance(v, str) for v in record["attributes"].values())
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "event", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }


def test_sqs_record_binary_attributes() -> None:
    message: Any = {
        "MessageId": "m",
        "ReceiptHandle": "r",
        "Body": "b",
        "MD5OfBody": "x",
        "MessageAttributes": {"raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}},
    }
    record = sqs_record(message, QueueTarget("u", "arn", "eu-west-1"))
    assert record["messageAttributes"]["raw"]["binaryValue"] == "AQI="
    assert record["awsRegion"] == "eu-west-1"


def test_failed_message_ids_follow_lambda_rules() -> None:
    ids = ["a", "b"]
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{}]}, ids) is None


def test_batching_window_gathers_more_than_ten(
    sqs: Any, queues: dict[str, QueueInfo], tmp_path: Path
) -> None:
    queue = queues["WorkQueue"]
    for start in range(0, 40, 10):
        sqs.send_message_batch(
            QueueUrl=queue.url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
        )
    handler = FakeHandler()
    outcome = _poller(
        sqs, _function(handler, tmp_path), queue, batch_size=25, batching_window_seconds=1
    ).poll_once()
    assert outcome is not None and (outcome.received, outcome.deleted) == (25, 25)
    assert len(handler.events[0]["Records"]) == 25
    assert queue_depth(sqs, queue.url) == (15, 0)


def test_partial_batch_failure_redelivers_failures_then_dead_letters_them(
    sqs: Any, queues: dict[str, QueueInfo], tmp_path: Path
) -> None:
    queue, dlq = queues["WorkQueue"], queues["WorkDeadLetterQueue"]
    for body in ("ok-1", "fail-1", "ok-2"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    handler = FakeHandler()
    poller = _poller(sqs, _function(handler, tmp_path), queue, retry_delay_seconds=1)
    outcome = poller.poll_once()
    assert outcome is not None and (outcome.received, outcome.deleted, outcome.failed) == (3, 2, 1)
    assert queue_depth(sqs, queue.url) == (0, 1)  # the failure is hidden for the retry delay only

    deadline = time.monotonic() + 20
    while queue_depth(sqs, dlq.url)[0] == 0 and time.monotonic() < deadline:
        poller.poll_once()
        time.sleep(0.2)
    deliveries = [
        r["attributes"]["ApproximateReceiveCount"]
        for e in handler.events
        for r in e["Records"]
        if r["body"] == "fail-1"
    ]
    assert deliveries == ["1", "2", "3"]  # maxReceiveCount 3, then moved
    assert queue_depth(sqs, queue.url) == (0, 0)
    moved = sqs.receive_message(QueueUrl=dlq.url)["Messages"]
    assert [m["Body"] for m in moved] == ["fail-1"]
    assert sorted(r["body"] for e in handler.events for r in e["Records"]) == [
        "fail-1",
        "fail-1",
        "fail-1",
        "ok-1",
        "ok-2",
    ]


def test_an_exception_deletes_nothing(sqs: Any, queues: dict[str, QueueInfo], tmp_path: Path) -> None:
    queue = queues["WorkQueue"]
    for body in ("ok", "raise"):
        sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    poller = _poller(sqs, _function(FakeHandler(), tmp_path), queue)
    outcome = poller.poll_once()
    assert outcome is not None and (outcome.deleted, outcome.failed) == (0, 2)
    assert outcome.error is not None and "boom" in outcome.error
    time.sleep(1.2)
    assert queue_depth(sqs, queue.url) == (2, 0)


def test_without_report_batch_item_failures_the_response_is_ignored(
    sqs: Any, queues: dict[str, QueueInfo], tmp_path: Path
) -> None:
    queue = queues["WorkQueue"]
    sqs.send_message(QueueUrl=queue.url, MessageBody="fail-but-ignored")
    poller = _poller(sqs, _function(FakeHandler(), tmp_path), queue, report_batch_item_failures=False)
    outcome = poller.poll_once()
    assert outcome is not None and outcome.deleted == 1
    assert queue_depth(sqs, queue.url) == (0, 0)


def test_poller_thread_delivers_and_stops(sqs: Any, queues: dict[str, QueueInfo], tmp_path: Path) -> None:
    queue = queues["WorkQueue"]
    handler = FakeHandler()
    poller = _poller(sqs, _function(handler, tmp_path), queue, poll_wait_seconds=1)
    poller.start()
    try:
        sqs.send_message(QueueUrl=queue.url, MessageBody="hello")
        deadline = time.monotonic() + 5
        while not handler.events and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
    assert handler.events and handler.events[0]["Records"][0]["body"] == "hello"
    assert queue_depth(sqs, queue.url) == (0, 0)
