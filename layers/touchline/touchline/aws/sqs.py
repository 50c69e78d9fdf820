"""`EventQueue` on SQS: one request's envelopes packed into as few messages as fit, sent with
SendMessage (or concurrent SendMessageBatch calls above one message)."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from touchline.envelope import pack
from touchline.ingest.queue import EnqueueError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

SQS_BATCH_ENTRIES = 10
SQS_BATCH_BYTES = 256 * 1024
# SQS's message size limit (262,144 bytes), less room for the attributes SQS counts against it.
SQS_MESSAGE_BYTES = SQS_BATCH_BYTES - 1024
# SendMessageBatch calls in flight at once for one send: above 256 KiB a send is several calls,
# and a Lambda is billed for the wall time of round trips it would otherwise make in turn.
MAX_CONCURRENT_BATCHES = 8


class SqsEventQueue:
    """One send (one request's envelopes) packed into messages of ≤256 KiB, one envelope per line
    (`touchline.envelope.pack`): SQS bills and Lambda polls per message, so a 100-event batch is
    one request where it was 14. SendMessage for one message; SendMessageBatch (≤10 entries,
    ≤256 KiB) for more, the batches sent concurrently (boto3 clients are thread-safe). Every batch
    is tried even when one fails, then the first failure is raised: the caller answers 5xx, the
    sender retries, and the rows already sent deduplicate on their ids."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url
        self._pool: ThreadPoolExecutor | None = None

    def send(self, bodies: list[str]) -> None:
        self.send_messages(pack(bodies, SQS_MESSAGE_BYTES))

    def send_messages(self, bodies: list[str]) -> None:
        """Send each body as its own message (what `send` does once it has packed them)."""
        if len(bodies) == 1:
            self._client.send_message(QueueUrl=self._url, MessageBody=bodies[0])
            return
        chunks = _chunks(bodies)
        if len(chunks) == 1:
            self._send_batch(chunks[0])
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(MAX_CONCURRENT_BATCHES, thread_name_prefix="sqs-send")
        # Each batch runs in the caller's context: tracing segments and whatever else is
        # context-local (the local stack's per-function credentials) follow it into the pool.
        futures = [
            self._pool.submit(contextvars.copy_context().run, self._send_batch, chunk) for chunk in chunks[1:]
        ]
        errors: list[BaseException] = []
        try:
            self._send_batch(chunks[0])  # this thread would only wait otherwise
        except Exception as exc:  # every batch is still tried; the first failure is raised
            errors.append(exc)
        errors.extend(error for future in futures if (error := future.exception()) is not None)
        if errors:
            raise errors[0]

    def _send_batch(self, chunk: list[str]) -> None:
        pending = {str(i): body for i, body in enumerate(chunk)}
        for _attempt in range(3):
            result = self._client.send_message_batch(
                QueueUrl=self._url, Entries=[{"Id": i, "MessageBody": b} for i, b in pending.items()]
            )
            failed = result.get("Failed", [])
            # Sender faults (bad message) will fail again; only retry the service's own failures.
            if any(f.get("SenderFault") for f in failed):
                raise EnqueueError(f"SQS rejected messages: {failed}")
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending:
                return
        raise EnqueueError(f"SQS failed {len(pending)} messages after retries")


def _chunks(bodies: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for body in bodies:
        body_size = len(body.encode())
        if len(chunks[-1]) == SQS_BATCH_ENTRIES or (chunks[-1] and size + body_size > SQS_BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(body)
        size += body_size
    return chunks


class SqsMessageQueue(SqsEventQueue):
    """Each body its own message, never packed: an outgoing webhook delivery is one attempt of
    one event, retried, delayed and dead-lettered on its own (docs/webhooks.md)."""

    def send(self, bodies: list[str]) -> None:
        if bodies:
            self.send_messages(bodies)


class SqsDelayedQueue:
    """One message at a time, each with its own delay (SQS `DelaySeconds`, 0-900): the outgoing
    webhooks' retries and dead letters (docs/webhooks.md)."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send_later(self, body: str, delay_seconds: int) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=body, DelaySeconds=max(0, min(900, int(delay_seconds)))
        )


class SqsFifoQueue:
    """`GroupQueue` on an SQS FIFO queue: each message behind its group's earlier ones (SQS hands
    a group to one consumer at a time), a repeated deduplication id within five minutes dropped
    (the aggregation's fan-out, touchline.aggregate.groups)."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, body: str, group_id: str, deduplication_id: str) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageGroupId=group_id,
            MessageDeduplicationId=deduplication_id,
        )
