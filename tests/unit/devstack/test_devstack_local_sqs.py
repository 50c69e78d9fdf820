"""The stack's in-process queues (`local_sqs`): visibility, receive count, redrive, FIFO, the
journal across a restart, the IAM check, and calls that are not theirs left to moto."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from touchline_dev.devstack.local_sqs import LocalQueues, attributes_md5
from touchline_dev.devstack.moto_backend import MotoServer, aws_client
from touchline_dev.devstack.queue_journal import QueueJournal
from touchline_dev.iam import moto_iam

ACCOUNT = "123456789012"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[QueueJournal]:
    journal = QueueJournal(tmp_path / "queues.db")
    yield journal
    journal.close()


@pytest.fixture
def local(moto: MotoServer, sqs: Any, journal: QueueJournal) -> Iterator[LocalQueues]:
    """Work (visibility 2 s, redrive after 2 receives to Dead) and Ordered.fifo, served locally."""
    dead = sqs.create_queue(QueueName="Dead")["QueueUrl"]
    dead_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:Dead"
    policy = f'{{"deadLetterTargetArn": "{dead_arn}", "maxReceiveCount": 2}}'
    work = sqs.create_queue(QueueName="Work", Attributes={"VisibilityTimeout": "2", "RedrivePolicy": policy})[
        "QueueUrl"
    ]
    fifo = sqs.create_queue(
        QueueName="Ordered.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    queues = LocalQueues(journal, moto.url, "us-east-1", ACCOUNT)
    for name, url, logical_id in (
        ("Dead", dead, "DeadQ"),
        ("Work", work, "WorkQ"),
        ("Ordered.fifo", fifo, "FifoQ"),
    ):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queues.add_queue(name, url, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}", logical_id, attributes)
    queues.install()
    yield queues
    queues.uninstall()


def _url(sqs: Any, name: str) -> str:
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def _receive(sqs: Any, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], **kwargs)
    return list(response.get("Messages", []))


def test_a_received_message_is_hidden_for_the_visibility_timeout(local: LocalQueues, sqs: Any) -> None:
    url = _url(sqs, "Work")
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    (first,) = _receive(sqs, url)
    assert (first["MessageId"], first["Body"]) == (sent["MessageId"], "hello")
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert _receive(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    (again,) = _receive(sqs, url)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    time.sleep(2.1)  # past the timeout: deleted stays deleted
    assert _receive(sqs, url) == []


def test_redrive_moves_a_message_received_max_receive_count_times(local: LocalQueues, sqs: Any) -> None:
    url, dead = _url(sqs, "Work"), _url(sqs, "Dead")
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):
        (message,) = _receive(sqs, url)
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert _receive(sqs, url) == []  # the third receive moved it instead
    (moved,) = _receive(sqs, dead)
    assert moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:Work"
    assert [m["body"] for m in local.journal.leftovers()["DeadQ"]] == ["poison"]


def test_long_polling_wakes_for_a_send(local: LocalQueues, sqs: Any) -> None:
    import threading

    url = _url(sqs, "Work")
    threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="late")).start()
    started = time.monotonic()
    (message,) = _receive(sqs, url, WaitTimeSeconds=5)
    assert message["Body"] == "late" and time.monotonic() - started < 3


def test_fifo_keeps_group_order_and_drops_duplicates(local: LocalQueues, sqs: Any) -> None:
    url = _url(sqs, "Ordered.fifo")
    for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("a1", "a")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = _receive(sqs, url)
    # Group a's second message waits behind its first in flight; the duplicate a1 was dropped.
    assert [m["Body"] for m in first] == ["a1", "b1"]
    assert _receive(sqs, url) == []
    sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(first)],
    )
    assert [m["Body"] for m in _receive(sqs, url)] == ["a2"]
    with pytest.raises(ClientError, match="MessageGroupId"):
        sqs.send_message(QueueUrl=url, MessageBody="no group")


def test_the_journal_holds_what_is_not_deleted_for_the_next_start(
    local: LocalQueues, sqs: Any, tmp_path: Path
) -> None:
    url = _url(sqs, "Work")
    attributes = {"kind": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "kept", "MessageAttributes": attributes},
            {"Id": "2", "MessageBody": "done"},
        ],
    )
    done = next(m for m in _receive(sqs, url, MessageAttributeNames=["All"]) if m["Body"] == "done")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=done["ReceiptHandle"])
    reopened = QueueJournal(tmp_path / "queues.db")  # what a start after a SIGKILL reads
    try:
        assert reopened.leftovers() == {
            "WorkQ": [{"body": "kept", "attributes": {"kind": {"DataType": "Binary", "BinaryValue": "AAE="}}}]
        }
    finally:
        reopened.close()
    sqs.purge_queue(QueueUrl=url)
    assert local.journal.leftovers() == {}


def test_message_attributes_come_back_with_sqs_checksum(local: LocalQueues, sqs: Any) -> None:
    url = _url(sqs, "Work")
    attributes = {"site": {"DataType": "String", "StringValue": "s1"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    (message,) = _receive(sqs, url, MessageAttributeNames=["All"])
    assert message["MessageAttributes"] == attributes
    # The value moto (and so SQS's algorithm) gives for the same attributes.
    local.uninstall()
    try:
        expected = sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    finally:
        local.install()
    assert sent["MD5OfMessageAttributes"] == expected["MD5OfMessageAttributes"] == attributes_md5(attributes)


def test_depth_counts_visible_and_in_flight(local: LocalQueues, sqs: Any) -> None:
    url = _url(sqs, "Work")
    for body in ("1", "2", "3"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    ) == ("2", "1")


def test_the_iam_check_applies_the_callers_role(local: LocalQueues, moto: MotoServer) -> None:
    harness = aws_client("sqs", moto.url)
    url = _url(harness, "Work")
    role = aws_client("sqs", moto.url)
    role._request_signer._credentials = harness._request_signer._credentials.__class__("AKIAROLE", "secret")
    local.allow_roles(
        {"AKIAROLE": [{"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}]}
    )
    with moto_iam.enforced():
        role.send_message(QueueUrl=url, MessageBody="allowed")
        with pytest.raises(ClientError) as denied:
            role.receive_message(QueueUrl=url)
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        assert harness.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "allowed"


def test_other_endpoints_and_queues_are_left_to_moto(local: LocalQueues, sqs: Any) -> None:
    other = sqs.create_queue(QueueName="NotTheStacks")["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="in moto")
    assert local.journal.leftovers() == {}
    assert sqs.receive_message(QueueUrl=other)["Messages"][0]["Body"] == "in moto"


def test_a_send_through_motos_http_endpoint_joins_the_local_queue(
    local: LocalQueues, moto: MotoServer
) -> None:
    """Another process (a CLI command on the running stack) reaches the queue through moto."""
    over_http = aws_client("sqs", moto.url.replace("127.0.0.1", "localhost"))
    url = _url(over_http, "Work")
    sent = over_http.send_message(QueueUrl=url, MessageBody="from the cli")
    (message,) = _receive(aws_client("sqs", moto.url), url)
    assert (message["MessageId"], message["Body"]) == (sent["MessageId"], "from the cli")
    assert [m["body"] for m in local.journal.leftovers()["WorkQ"]] == ["from the cli"]
