"""The SQS event source mapping: poll a moto queue, invoke the function with batches, delete.

It behaves like Lambda's poller for standard queues: gather up to BatchSize messages within
MaximumBatchingWindowInSeconds, invoke once, delete everything on success, delete only the
successes when the function reports `batchItemFailures` (and has ReportBatchItemFailures), and
delete nothing when the function raises. Failed messages become visible again after a short dev
backoff instead of the queue's VisibilityTimeout, so the dev loop retries in seconds; moto applies
the queue's RedrivePolicy itself on receive (a message received maxReceiveCount times moves to the
dead-letter queue), exactly where SQS applies it.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .lambda_runtime import InvocationError, LocalFunction

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from .local_sqs import DirectSqs

log = logging.getLogger("touchline_dev.devstack")

_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


@dataclass(frozen=True)
class QueueTarget:
    url: str
    arn: str
    region: str


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    deleted: int
    failed: int
    error: str | None = None


def sqs_record(message: MessageTypeDef, queue: QueueTarget) -> dict[str, Any]:
    """One entry of the Lambda SQS event's `Records`, as Lambda builds it from ReceiveMessage."""
    attributes = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {k: str(attributes[k]) for k in _RECORD_ATTRIBUTES if k in attributes},
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue.arn, "awsRegion": queue.region})
    return record


def _message_attribute(value: Any) -> dict[str, Any]:
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    attribute["stringListValues"] = list(value.get("StringListValues") or [])
    attribute["binaryListValues"] = [
        base64.b64encode(v).decode("ascii") for v in value.get("BinaryListValues") or []
    ]
    attribute["dataType"] = value.get("DataType", "String")
    return attribute


def failed_message_ids(result: Any, batch_ids: Sequence[str]) -> set[str] | None:
    """The ids a partial batch response marks as failed; None means the whole batch failed.

    Lambda's rules: an empty or missing `batchItemFailures` is full success; an entry whose
    `itemIdentifier` is missing, empty or not in the batch fails the whole batch.
    """
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(item, str) or item not in batch_ids:
            return None
        ids.add(item)
    return ids


class SqsPoller:
    """One event source mapping, run by a thread until `stop()`."""

    def __init__(
        self,
        sqs: SQSClient | DirectSqs,
        function: LocalFunction,
        queue: QueueTarget,
        *,
        batch_size: int = 10,
        batching_window_seconds: float = 0.0,
        report_batch_item_failures: bool = False,
        retry_delay_seconds: int = 1,
        poll_wait_seconds: int = 1,
    ) -> None:
        self.sqs = sqs
        # Messages per receive and per delete: SQS's 10, or a local queue's `DirectSqs` limit.
        self.batch_limit = int(getattr(sqs, "batch_limit", 10))
        self.function = function
        self.queue = queue
        self.batch_size = max(1, batch_size)
        self.window = max(0.0, batching_window_seconds)
        self.report_batch_item_failures = report_batch_item_failures
        self.retry_delay_seconds = retry_delay_seconds
        self.poll_wait_seconds = poll_wait_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.invocations = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sqs-{self.function.logical_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand (it is deleted or released), then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("poller for %s failed; retrying", self.function.logical_id)
                self._stop.wait(1.0)

    def poll_once(self) -> BatchOutcome | None:
        """Collect one batch and process it; None when nothing arrived within the poll wait."""
        messages = self.collect()
        if not messages:
            return None
        return self.process(messages)

    def collect(self) -> list[MessageTypeDef]:
        first = self._receive(min(self.batch_limit, self.batch_size), wait=self.poll_wait_seconds)
        if not first:
            return []
        batch = list(first)
        if self.window <= 0:
            return batch
        deadline = time.monotonic() + self.window
        while len(batch) < self.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(min(self.batch_limit, self.batch_size - len(batch)), wait=0)
            if more:
                batch.extend(more)
            else:
                # Each receive is a whole moto request (dispatch, IAM check, serialisation): 4 a
                # second fill a 1 s window as well as 20 did, for a fifth of the requests.
                time.sleep(min(0.25, remaining))
        return batch

    def _receive(self, count: int, *, wait: int) -> list[MessageTypeDef]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def process(self, messages: Sequence[MessageTypeDef]) -> BatchOutcome:
        records = [sqs_record(m, self.queue) for m in messages]
        ids = [m["MessageId"] for m in messages]
        self.invocations += 1
        try:
            result = self.function.invoke({"Records": records}, wire=False).result
        except InvocationError as exc:
            log.error("%s failed a batch of %d: %s", self.function.logical_id, len(messages), exc)
            self._release(messages)
            return BatchOutcome(len(messages), 0, len(messages), str(exc))
        failed = failed_message_ids(result, ids) if self.report_batch_item_failures else set()
        if failed is None:
            log.error(
                "%s returned an invalid batchItemFailures: retrying the whole batch", self.function.logical_id
            )
            self._release(messages)
            return BatchOutcome(len(messages), 0, len(messages), "invalid batchItemFailures")
        self._delete([m for m in messages if m["MessageId"] not in failed])
        self._release([m for m in messages if m["MessageId"] in failed])
        return BatchOutcome(len(messages), len(messages) - len(failed), len(failed))

    def _delete(self, messages: Sequence[MessageTypeDef]) -> None:
        for chunk in _chunks(messages, self.batch_limit):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = self.sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)  # type: ignore[arg-type]
            for failure in response.get("Failed", []):
                log.error("could not delete a message from %s: %s", self.queue.url, failure.get("Message"))

    def _release(self, messages: Sequence[MessageTypeDef]) -> None:
        """Make failed messages visible again soon (Lambda would wait out the VisibilityTimeout)."""
        for chunk in _chunks(messages, self.batch_limit):
            entries = [
                {
                    "Id": str(i),
                    "ReceiptHandle": m["ReceiptHandle"],
                    "VisibilityTimeout": self.retry_delay_seconds,
                }
                for i, m in enumerate(chunk)
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue.url, Entries=entries)  # type: ignore[arg-type]


def _chunks(items: Sequence[MessageTypeDef], size: int) -> list[Sequence[MessageTypeDef]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def queue_depth(sqs: SQSClient, url: str) -> tuple[int, int]:
    """(visible, in flight) messages, as SQS approximates them."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)), int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )
