"""The dev stack's queues in this process: SQS's message calls answered without HTTP or moto.

Each hit was one moto request (werkzeug, Flask, moto's dispatch, botocore's serialising and
parsing on both sides): ~12 ms of CPU in a process whose GIL is its one core, so the stack
accepted ~30 hits/s (docs/performance.md, "The local stack"). `LocalQueues.install` makes every
boto3 SQS client pointed at the stack's moto endpoint answer the message calls on the stack's
own queues here (SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
ChangeMessageVisibility(Batch), GetQueueAttributes' counts, GetQueueUrl, PurgeQueue) with SQS's
semantics: visibility timeout, receive count, redrive to the dead-letter queue once a message was
received maxReceiveCount times, delay, FIFO group order and deduplication. Anything else (and any
other endpoint: the CLI's or a test's private moto) goes to moto as before; the queues are still
created there, so their attributes and URLs are moto's.

Durability is the journal's (`queue_journal`): a message is in SQLite before SendMessage returns,
moves with a redrive, and leaves on delete or purge; a restart re-sends what is left. The IAM
check is `touchline_dev.iam`'s evaluator on the caller's role, as moto's enforcement does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..iam import moto_iam
from ..iam.policy import allowed
from ..iam.requests import iam_requests
from .handles import fresh_id
from .queue_journal import QueueJournal

_ANSWERED = frozenset(
    {
        "SendMessage",
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
        "GetQueueAttributes",
        "GetQueueUrl",
        "PurgeQueue",
    }
)
_DEDUPLICATION_SECONDS = 300


@dataclass
class _Message:
    id: str
    body: str
    attributes: dict[str, Any]  # message attributes, boto3's shape (BinaryValue as bytes)
    md5_body: str
    md5_attributes: str | None
    sent_ms: int
    visible_at: float
    sequence: int
    group: str | None = None
    dedup: str | None = None
    receive_count: int = 0
    first_receive_ms: int | None = None
    handle: str = ""
    dead_letter_source: str | None = None


@dataclass
class _Queue:
    name: str
    url: str
    arn: str
    logical_id: str
    visibility: int
    delay: int
    fifo: bool
    content_dedup: bool
    dlq_arn: str | None
    max_receives: int
    messages: dict[str, _Message] = field(default_factory=dict)
    # Receivers long-polling this queue; its lock is every queue's (`LocalQueues._ready`), so a
    # send wakes this queue's receivers only, not every poller of the stack.
    ready: threading.Condition = field(default_factory=threading.Condition)
    dedup_seen: dict[str, tuple[float, str]] = field(default_factory=dict)


class LocalQueues:
    """The stack's queues, answered in process for clients on `endpoint_url`."""

    def __init__(self, journal: QueueJournal, endpoint_url: str, region: str, account: str) -> None:
        self.journal = journal
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region, self.account = region, account
        self._queues: dict[str, _Queue] = {}  # by name
        self._by_arn: dict[str, _Queue] = {}
        self._lock = threading.RLock()
        self._ready = threading.Condition(self._lock)  # the lock of every queue's state
        self._sequence = 0
        self._roles: dict[str, list[dict[str, Any]]] = {}  # access key -> the role's documents
        self._verdicts: dict[tuple[str, str, str], bool] = {}
        self._undo: Callable[[], None] | None = None

    def add_queue(
        self, name: str, url: str, arn: str, logical_id: str, attributes: Mapping[str, str]
    ) -> None:
        """Serve `name` here, with its attributes as created in moto."""
        policy = json.loads(attributes.get("RedrivePolicy") or "{}")
        queue = _Queue(
            name=name,
            url=url,
            arn=arn,
            logical_id=logical_id,
            visibility=int(attributes.get("VisibilityTimeout", 30)),
            delay=int(attributes.get("DelaySeconds", 0)),
            fifo=str(attributes.get("FifoQueue", "false")).lower() == "true",
            content_dedup=str(attributes.get("ContentBasedDeduplication", "false")).lower() == "true",
            dlq_arn=policy.get("deadLetterTargetArn"),
            max_receives=int(policy.get("maxReceiveCount", 0)),
        )
        queue.ready = threading.Condition(self._lock)
        self._queues[name] = queue
        self._by_arn[arn] = queue

    def allow_roles(self, roles: Mapping[str, list[dict[str, Any]]]) -> None:
        """The functions' roles by access key id, for the IAM check."""
        self._roles = dict(roles)
        self._verdicts.clear()

    # ------------------------------------------------------------------ botocore

    def install(self) -> None:
        """Answer the stack's queues' message calls in this process from now on."""
        from botocore import client as botocore_client

        base: Any = botocore_client.BaseClient
        original = base._make_api_call
        local = self

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if operation_name in _ANSWERED and client.meta.service_model.service_name == "sqs":
                queue = local._queue_of(client, api_params)
                if queue is not None:
                    return local._answer(client, operation_name, api_params, queue)
            return original(client, operation_name, api_params)

        base._make_api_call = make_api_call

        # Another process (a CLI command on the running stack) still sends through moto's HTTP
        # endpoint: moto's message for one of these queues is taken over here instead.
        from moto.sqs import models

        queue_class: Any = models.Queue
        add_message = queue_class.add_message

        def adopting_add(queue: Any, message: Any) -> None:
            mine = local._queues.get(queue.name)
            if mine is None:
                add_message(queue, message)
            else:
                local._adopt(mine, message)

        queue_class.add_message = adopting_add

        def undo() -> None:
            base._make_api_call = original
            queue_class.add_message = add_message

        self._undo = undo

    def uninstall(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None

    def _queue_of(self, client: Any, params: Mapping[str, Any]) -> _Queue | None:
        if str(client.meta.endpoint_url).rstrip("/") != self.endpoint_url:
            return None
        url = params.get("QueueUrl")
        name = str(url).rstrip("/").rsplit("/", 1)[-1] if url else str(params.get("QueueName", ""))
        return self._queues.get(name)

    def _answer(self, client: Any, operation: str, params: dict[str, Any], queue: _Queue) -> Any:
        from botocore.validate import validate_parameters

        model = client.meta.service_model.operation_model(operation)
        if client.meta.config.parameter_validation:
            validate_parameters(params, model.input_shape)
        self._authorize(client, operation, queue)
        handler = getattr(self, f"_{operation}")
        result: dict[str, Any] = handler(queue, params)
        result["ResponseMetadata"] = {"RequestId": fresh_id(), "HTTPStatusCode": 200}
        return result

    def serves(self, url: str) -> bool:
        return url.rstrip("/").rsplit("/", 1)[-1] in self._queues

    def direct(self, url: str) -> DirectSqs:
        """The calls the stack's pollers make on queue `url`, straight to it (see `DirectSqs`)."""
        return DirectSqs(self, self._queues[url.rstrip("/").rsplit("/", 1)[-1]])

    def _authorize(self, client: Any, operation: str, queue: _Queue) -> None:
        if not moto_iam.is_enforced():
            return
        key = client._request_signer._credentials.get_frozen_credentials().access_key
        if key in moto_iam.HARNESS_KEYS:
            return
        verdict = self._verdicts.get((key, operation, queue.name))
        if verdict is None:
            documents = self._roles.get(key)
            requests = iam_requests(
                "sqs", operation, {"QueueUrl": queue.url}, self.region, self.account, _none
            )
            verdict = documents is not None and all(allowed(documents, r) for r in requests)
            self._verdicts[(key, operation, queue.name)] = verdict
        if not verdict:
            raise _error(
                operation,
                "AccessDeniedException",
                f"the caller's role is not authorized to perform sqs:{operation} on resource {queue.arn}",
                400,
            )

    # ------------------------------------------------------------------ operations

    def _GetQueueUrl(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"QueueUrl": queue.url}

    def _SendMessage(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._send(queue, [params], "SendMessage")[0]

    def _SendMessageBatch(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        entries = list(params["Entries"])
        _check_batch(entries, "SendMessageBatch")
        results = self._send(queue, entries, "SendMessageBatch")
        return {
            "Successful": [dict(r, Id=e["Id"]) for e, r in zip(entries, results, strict=True)],
            "Failed": [],
        }

    def _adopt(self, queue: _Queue, message: Any) -> None:
        delay = max(0.0, (int(getattr(message, "delayed_until", 0) or 0) - time.time() * 1000) / 1000)
        entry: dict[str, Any] = {
            "MessageBody": message.body,
            "MessageAttributes": {k: _bytes_value(v) for k, v in (message.message_attributes or {}).items()},
            "DelaySeconds": round(delay),
            "MessageGroupId": message.group_id,
            "MessageDeduplicationId": message.deduplication_id,
            "_Id": message.id,
        }
        self._send(queue, [entry], "SendMessage")

    def _send(self, queue: _Queue, entries: list[Mapping[str, Any]], operation: str) -> list[dict[str, Any]]:
        if queue.fifo:
            return self._send_fifo(queue, entries, operation)
        return self._send_standard(queue, entries)

    @staticmethod
    def _message(
        entry: Mapping[str, Any],
        now: float,
        delay: int,
        sequence: int = 0,
        group: str | None = None,
        dedup: str | None = None,
    ) -> _Message:
        body = str(entry["MessageBody"])
        attributes = dict(entry.get("MessageAttributes") or {})
        return _Message(
            id=str(entry.get("_Id") or fresh_id()),
            body=body,
            attributes=attributes,
            md5_body=hashlib.md5(body.encode()).hexdigest(),
            md5_attributes=attributes_md5(attributes) if attributes else None,
            sent_ms=int(now * 1000),
            visible_at=now + delay,
            sequence=sequence,
            group=group,
            dedup=dedup,
        )

    def _send_fifo(
        self, queue: _Queue, entries: list[Mapping[str, Any]], operation: str
    ) -> list[dict[str, Any]]:
        """A FIFO send, all under the queue's lock: the sequence numbers and the five-minute
        deduplication window must see sends in one order."""
        now = time.time()
        made: list[_Message] = []
        results: list[dict[str, Any]] = []
        with self._ready:
            if len(queue.dedup_seen) > 10_000:
                queue.dedup_seen = {
                    k: v for k, v in queue.dedup_seen.items() if now - v[0] < _DEDUPLICATION_SECONDS
                }
            for entry in entries:
                body = str(entry["MessageBody"])
                group = entry.get("MessageGroupId")
                dedup = entry.get("MessageDeduplicationId")
                if not group:
                    raise _error(operation, "MissingParameter", "The request must contain MessageGroupId.")
                if not dedup and queue.content_dedup:
                    dedup = hashlib.sha256(body.encode()).hexdigest()
                if not dedup:
                    raise _error(
                        operation,
                        "InvalidParameterValue",
                        "The queue should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly",
                    )
                seen = queue.dedup_seen.get(dedup)
                if seen is not None and now - seen[0] < _DEDUPLICATION_SECONDS:
                    attributes = dict(entry.get("MessageAttributes") or {})
                    results.append(self._sent(queue.messages.get(seen[1]), seen[1], body, attributes))
                    continue
                self._sequence += 1
                message = self._message(entry, now, 0, self._sequence, group=group, dedup=dedup)
                queue.dedup_seen[dedup] = (now, message.id)
                made.append(message)
                results.append(self._sent(message, message.id, body, message.attributes))
            # In SQLite before anyone is told it was sent (or can receive it).
            self.journal.write_many((queue.logical_id, m.id, m.body, m.attributes) for m in made)
            for message in made:
                queue.messages[message.id] = message
            if made:
                queue.ready.notify_all()
        return results

    def _send_standard(self, queue: _Queue, entries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """A standard queue's send: the journal write (the slow part) outside the queue's lock,
        which is then held only to add the messages, so sends do not queue up behind each other
        or behind a receive (the lock was ~17 % of the stack's wall time per hit)."""
        now = time.time()
        made = [self._message(e, now, delay=int(e.get("DelaySeconds", queue.delay))) for e in entries]
        results: list[dict[str, Any]] = []
        for message in made:
            result: dict[str, Any] = {"MessageId": message.id, "MD5OfMessageBody": message.md5_body}
            if message.md5_attributes:
                result["MD5OfMessageAttributes"] = message.md5_attributes
            results.append(result)
        # In SQLite before anyone is told it was sent (or can receive it).
        self.journal.write_many((queue.logical_id, m.id, m.body, m.attributes) for m in made)
        with self._ready:
            for message in made:
                queue.messages[message.id] = message
            queue.ready.notify_all()
        return results

    @staticmethod
    def _sent(
        message: _Message | None, message_id: str, body: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "MessageId": message_id,
            "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest(),
        }
        if attributes:
            result["MD5OfMessageAttributes"] = attributes_md5(attributes)
        if message is not None and message.group is not None:
            result["SequenceNumber"] = str(message.sequence).zfill(20)
        return result

    def _ReceiveMessage(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        count = int(params.get("MaxNumberOfMessages", 1))
        if not 1 <= count <= 10:
            raise _error("ReceiveMessage", "InvalidParameterValue", "MaxNumberOfMessages must be 1 to 10")
        return self._receive(queue, params, count)

    def _receive(self, queue: _Queue, params: Mapping[str, Any], count: int) -> dict[str, Any]:
        visibility = int(params.get("VisibilityTimeout", queue.visibility))
        deadline = time.monotonic() + min(20, int(params.get("WaitTimeSeconds", 0)))
        wanted = set(params.get("MessageSystemAttributeNames") or ()) | set(
            params.get("AttributeNames") or ()
        )
        names = set(params.get("MessageAttributeNames") or ())
        with self._ready:
            while True:
                taken = self._take(queue, count, visibility)
                remaining = deadline - time.monotonic()
                if taken or remaining <= 0:
                    break
                queue.ready.wait(min(remaining, 0.5))  # also wakes for messages becoming visible
        messages = [_received(m, queue, wanted, names) for m in taken]
        return {"Messages": messages} if messages else {}

    def _take(self, queue: _Queue, count: int, visibility: int) -> list[_Message]:
        """Up to `count` visible messages, hidden for `visibility` s; redrives the over-received."""
        now = time.time()
        taken: list[_Message] = []
        blocked: set[str | None] = set()  # FIFO groups with a message in flight
        dlq = self._by_arn.get(queue.dlq_arn) if queue.dlq_arn else None
        for message in list(queue.messages.values()):
            if message.visible_at > now:
                if queue.fifo:
                    blocked.add(message.group)
                continue
            if queue.fifo and message.group in blocked:
                continue
            if dlq is not None and queue.max_receives and message.receive_count >= queue.max_receives:
                self._redrive(queue, dlq, message)
                continue
            message.receive_count += 1
            if message.first_receive_ms is None:
                message.first_receive_ms = int(now * 1000)
            message.visible_at = now + visibility
            message.handle = f"{message.id}#{fresh_id()}"
            taken.append(message)
            if queue.fifo:
                blocked.add(message.group)
            if len(taken) == count:
                break
        return taken

    def _redrive(self, queue: _Queue, dlq: _Queue, message: _Message) -> None:
        # SQS moves the message itself (same id and body), its receive count kept.
        del queue.messages[message.id]
        self.journal.write_many([(dlq.logical_id, message.id, message.body, message.attributes)])
        message.visible_at = 0.0
        message.dead_letter_source = queue.arn
        dlq.messages[message.id] = message

    def _DeleteMessage(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        self._delete(queue, [str(params["ReceiptHandle"])], "DeleteMessage")
        return {}

    def _DeleteMessageBatch(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        operation = "DeleteMessageBatch"
        handles: list[str] = []

        def check(entry: Mapping[str, Any]) -> None:
            handle = str(entry["ReceiptHandle"])
            _message_id_of(handle, operation)
            handles.append(handle)

        answer = _each_entry(params, operation, check)
        self._delete(queue, handles, operation)
        return answer

    def _delete(self, queue: _Queue, handles: list[str], operation: str) -> None:
        """Drop the messages, then their journal rows in one transaction (the delete answers
        after both; a crash between them re-sends a message the loader stored, which its row ids
        deduplicate, as SQS's at-least-once delivery may)."""
        ids = [_message_id_of(handle, operation) for handle in handles]
        with self._ready:
            gone = [i for i in ids if queue.messages.pop(i, None) is not None]
        self.journal.forget_many(gone)
        # A handle of a message already deleted succeeds, as in SQS.

    def _ChangeMessageVisibility(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._ready:
            self._change(
                queue,
                str(params["ReceiptHandle"]),
                int(params["VisibilityTimeout"]),
                "ChangeMessageVisibility",
            )
        return {}

    def _ChangeMessageVisibilityBatch(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        operation = "ChangeMessageVisibilityBatch"

        def change(entry: Mapping[str, Any]) -> None:
            seconds = int(entry.get("VisibilityTimeout", 0))
            self._change(queue, str(entry["ReceiptHandle"]), seconds, operation)

        with self._ready:
            answer = _each_entry(params, operation, change)
            queue.ready.notify_all()
        return answer

    def _change(self, queue: _Queue, handle: str, seconds: int, operation: str) -> None:
        message = queue.messages.get(_message_id_of(handle, operation))
        if message is None or message.handle != handle or message.visible_at <= time.time():
            raise _error(operation, "MessageNotInflight", "The message referred to isn't in flight.")
        message.visible_at = time.time() + seconds

    def _GetQueueAttributes(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        now = time.time()
        with self._ready:
            messages = list(queue.messages.values())
        visible = sum(1 for m in messages if m.visible_at <= now)
        in_flight = sum(1 for m in messages if m.visible_at > now and m.receive_count)
        delayed = len(messages) - visible - in_flight
        values = {
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
            "QueueArn": queue.arn,
            "VisibilityTimeout": str(queue.visibility),
            "DelaySeconds": str(queue.delay),
        }
        if queue.fifo:
            values["FifoQueue"] = "true"
        if queue.dlq_arn:
            values["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": queue.dlq_arn, "maxReceiveCount": queue.max_receives}
            )
        names = set(params.get("AttributeNames") or ())
        if "All" not in names:
            values = {k: v for k, v in values.items() if k in names}
        return {"Attributes": values}

    def _PurgeQueue(self, queue: _Queue, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._ready:
            queue.messages.clear()
            self.journal.purge(queue.logical_id)
        return {}


class DirectSqs:
    """The three calls an event source mapping makes, on one local queue, without botocore.

    Lambda's poller is AWS's own service, which reads SQS in batches of 10; locally a poller
    gathering a 10,000-message batch made ~100 receives and ~100 deletes a second, each through
    botocore's validation, and a journal transaction per deleted message. This takes a batch of
    up to `batch_limit` in one call and forgets the deleted ones in one transaction; what a
    receive, a delete and a visibility change do to the queue is unchanged (`LocalQueues`).
    The pollers act as the operator (docs/local-stack.md), so there is no IAM check to skip.
    """

    batch_limit = 10_000

    def __init__(self, queues: LocalQueues, queue: _Queue) -> None:
        self._queues = queues
        self._queue = queue

    def receive_message(self, **params: Any) -> dict[str, Any]:
        count = int(params.get("MaxNumberOfMessages", 1))
        return self._queues._receive(self._queue, params, max(1, min(count, self.batch_limit)))

    def delete_message_batch(self, **params: Any) -> dict[str, Any]:
        entries = list(params["Entries"])
        self._queues._delete(self._queue, [str(e["ReceiptHandle"]) for e in entries], "DeleteMessageBatch")
        return {"Successful": [{"Id": e["Id"]} for e in entries], "Failed": []}

    def change_message_visibility_batch(self, **params: Any) -> dict[str, Any]:
        operation = "ChangeMessageVisibilityBatch"

        def change(entry: Mapping[str, Any]) -> None:
            seconds = int(entry.get("VisibilityTimeout", 0))
            self._queues._change(self._queue, str(entry["ReceiptHandle"]), seconds, operation)

        with self._queues._ready:
            answer = _each_entry(params, operation, change, limit=self.batch_limit)
            self._queue.ready.notify_all()
        return answer


def _bytes_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute as boto3 gives it (moto may hold a binary value as base64 text)."""
    value = dict(value)
    if isinstance(value.get("BinaryValue"), str):
        value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
    return value


def _none(_name: str) -> str | None:
    return None


def _error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        operation,
    )


def _each_entry(
    params: Mapping[str, Any],
    operation: str,
    act: Callable[[Mapping[str, Any]], None],
    limit: int = 10,
) -> dict[str, Any]:
    """A batch call's answer as SQS gives it: each entry done alone, its error in `Failed`
    (`limit`: SQS's 10 entries, or `DirectSqs`'s own batches)."""
    entries = list(params["Entries"])
    _check_batch(entries, operation, limit)
    successful, failed = [], []
    for entry in entries:
        try:
            act(entry)
            successful.append({"Id": entry["Id"]})
        except ClientError as exc:
            failed.append(_failure(entry["Id"], exc))
    return {"Successful": successful, "Failed": failed}


def _failure(entry_id: str, exc: ClientError) -> dict[str, Any]:
    error = exc.response.get("Error", {})
    return {
        "Id": entry_id,
        "SenderFault": True,
        "Code": error.get("Code", ""),
        "Message": error.get("Message", ""),
    }


def _check_batch(entries: list[Any], operation: str, limit: int = 10) -> None:
    if not entries:
        raise _error(
            operation, "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one entry"
        )
    if len(entries) > limit:
        raise _error(
            operation, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", f"At most {limit} entries"
        )
    if len({e["Id"] for e in entries}) != len(entries):
        raise _error(operation, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Two entries share an Id")


def _message_id_of(handle: str, operation: str) -> str:
    message_id, sep, _ = handle.partition("#")
    if not sep:
        raise _error(
            operation, "ReceiptHandleIsInvalid", f"The input receipt handle {handle!r} is not valid."
        )
    return message_id


def _received(message: _Message, queue: _Queue, wanted: set[str], names: set[str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "MessageId": message.id,
        "ReceiptHandle": message.handle,
        "MD5OfBody": message.md5_body,
        "Body": message.body,
    }
    if wanted:
        system = {
            "SenderId": "AIDAIT2UOQQY3AUEKVGXU",
            "SentTimestamp": str(message.sent_ms),
            "ApproximateReceiveCount": str(message.receive_count),
            "ApproximateFirstReceiveTimestamp": str(message.first_receive_ms),
        }
        if message.group is not None:
            system["MessageGroupId"] = message.group
            system["MessageDeduplicationId"] = str(message.dedup)
            system["SequenceNumber"] = str(message.sequence).zfill(20)
        if message.dead_letter_source is not None:
            system["DeadLetterQueueSourceArn"] = message.dead_letter_source
        result["Attributes"] = system if "All" in wanted else {k: v for k, v in system.items() if k in wanted}
    if names and message.attributes:
        chosen = {
            k: v for k, v in message.attributes.items() if "All" in names or ".*" in names or k in names
        }
        if chosen:
            result["MessageAttributes"] = chosen
            result["MD5OfMessageAttributes"] = message.md5_attributes
    return result


def attributes_md5(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """SQS's MD5 of message attributes: each name, type and value length-prefixed, names sorted."""

    def prefixed(value: bytes) -> bytes:
        return len(value).to_bytes(4, "big") + value

    digest = hashlib.md5()
    for name in sorted(attributes):
        value = attributes[name]
        data_type = str(value.get("DataType", "String"))
        digest.update(prefixed(name.encode()) + prefixed(data_type.encode()))
        if "StringValue" in value:
            digest.update(b"\x01" + prefixed(str(value["StringValue"]).encode()))
        elif "BinaryValue" in value:
            raw = value["BinaryValue"]
            digest.update(b"\x02" + prefixed(raw if isinstance(raw, bytes) else str(raw).encode()))
    return digest.hexdigest()
