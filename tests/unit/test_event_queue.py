"""SqsEventQueue: one request's envelopes packed into messages of ≤256 KiB; several messages in
SendMessageBatch calls sent concurrently; retries and failures."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest

from touchline.aws.sqs import SQS_BATCH_ENTRIES, SQS_MESSAGE_BYTES, SqsEventQueue
from touchline.envelope import pack, unpack
from touchline.ingest.queue import EnqueueError


class SlowSqs:
    """Answers like SQS after `delay` seconds; fails entries whose body is in `refuse` (sender
    fault) or, once each, in `flaky` (service fault)."""

    def __init__(self, delay: float = 0.02, refuse: set[str] | None = None, flaky: set[str] | None = None):
        self.delay = delay
        self.refuse = refuse or set()
        self.flaky = set(flaky or ())
        self.received: list[str] = []
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delay)
        failed: list[dict[str, Any]] = []
        with self._lock:
            self.in_flight -= 1
            for entry in Entries:
                body = entry["MessageBody"]
                if body in self.refuse:
                    failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "InvalidMessageContents"})
                elif body in self.flaky:
                    self.flaky.discard(body)
                    failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "InternalError"})
                else:
                    self.received.append(body)
        return {"Successful": [], "Failed": failed}

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self.calls += 1
        self.received.append(MessageBody)
        return {"MessageId": "m"}


def bodies(count: int) -> list[str]:
    return [f'{{"n":{i}}}' for i in range(count)]


def test_one_send_is_one_message_when_it_fits() -> None:
    sqs = SlowSqs(delay=0)
    sent = bodies(140)  # a 100-event tracking-API batch and its identity rows: 14 calls unpacked
    SqsEventQueue(sqs, "q").send(sent)  # type: ignore[arg-type]
    assert sqs.calls == 1 and [unpack(m) for m in sqs.received] == [sent]


def test_above_256_kib_a_send_splits_into_messages_that_each_fit() -> None:
    sqs = SlowSqs(delay=0.05)
    sent = [f'{{"n":{i},"pad":"{"é" * 3000}"}}' for i in range(300)]  # ~1.8 MB of UTF-8
    SqsEventQueue(sqs, "q").send(sent)  # type: ignore[arg-type]
    assert all(len(m.encode()) <= SQS_MESSAGE_BYTES for m in sqs.received)
    assert sorted(e for m in sqs.received for e in unpack(m)) == sorted(sent)
    per_message = SQS_MESSAGE_BYTES // (len(sent[0].encode()) + 1)
    assert len(sqs.received) == -(-len(sent) // per_message)  # as full as they can be
    assert sqs.most_in_flight > 1  # concurrent SendMessageBatch calls


def test_pack_keeps_order_and_sends_an_oversized_envelope_alone() -> None:
    assert pack(["a", "b", "c"], 3) == ["a\nb", "c"]
    assert pack(["a", "x" * 10, "b"], 5) == ["a", "x" * 10, "b"]
    assert pack([], 5) == []
    assert unpack("a\n\nb\n") == ["a", "b"] and unpack("a") == ["a"]


def test_the_batches_of_several_messages_go_out_concurrently_and_every_body_once() -> None:
    sqs = SlowSqs(delay=0.05)
    sent = bodies(95)
    SqsEventQueue(sqs, "q").send_messages(sent)  # type: ignore[arg-type]
    assert sorted(sqs.received) == sorted(sent)
    assert sqs.calls == 10 and sqs.most_in_flight > 1


def test_service_faults_are_retried_and_nothing_is_sent_twice() -> None:
    sent = bodies(25)
    sqs = SlowSqs(delay=0, flaky={sent[3], sent[17]})
    SqsEventQueue(sqs, "q").send_messages(sent)  # type: ignore[arg-type]
    assert sorted(sqs.received) == sorted(sent)


def test_a_refused_batch_fails_the_send_after_the_others_went_out() -> None:
    sent = bodies(3 * SQS_BATCH_ENTRIES)
    sqs = SlowSqs(delay=0, refuse={sent[12]})
    with pytest.raises(EnqueueError):
        SqsEventQueue(sqs, "q").send_messages(sent)  # type: ignore[arg-type]
    # Every other body went out (the refused one's batch too, as SQS does): the caller answers
    # 5xx, the sender retries, and the envelopes already queued deduplicate on their row ids.
    assert set(sqs.received) == set(sent) - {sent[12]}


def test_concurrent_batches_reach_a_real_queue(aws: dict[str, str]) -> None:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="concurrent")["QueueUrl"]
    sent = bodies(45)
    SqsEventQueue(client, url).send_messages(sent)
    received: list[str] = []
    while batch := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        received.extend(m["Body"] for m in batch)
        client.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch]
        )
    assert sorted(received) == sorted(sent)
