"""The queue journal: what moto's SQS holds is in SQLite from send to delete, DLQ moves included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.moto_backend import MotoServer
from touchline_dev.devstack.queue_journal import QueueJournal
from touchline_dev.devstack.resources import LocalResources, QueueInfo
from touchline_dev.devstack.template import load_template


@pytest.fixture
def queues(moto: MotoServer, sqs: Any, fixture_template: Path) -> dict[str, QueueInfo]:
    resources = LocalResources(load_template(fixture_template), endpoint_url=moto.url)
    return {q.logical_id: q for q in resources.create_queues(sqs)}


@pytest.fixture
def journal(tmp_path: Path, queues: dict[str, QueueInfo]) -> Iterator[QueueJournal]:
    journal = QueueJournal(tmp_path / "queues.db")
    journal.install((q.name, q.logical_id) for q in queues.values())
    yield journal
    journal.close()


def _bodies(journal: QueueJournal) -> dict[str, list[str]]:
    return {queue: [m["body"] for m in messages] for queue, messages in journal.leftovers().items()}


def test_sent_messages_stay_until_deleted_and_a_new_journal_reads_them(
    journal: QueueJournal, queues: dict[str, QueueInfo], sqs: Any, tmp_path: Path
) -> None:
    url = queues["WorkQueue"].url
    sqs.send_message(QueueUrl=url, MessageBody="one")
    entries = [{"Id": "a", "MessageBody": "two"}, {"Id": "b", "MessageBody": "3"}]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    [received] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
    left = sorted({"one", "two", "3"} - {received["Body"]})
    # Another process (the next start) opens the same file: the stack died here.
    assert sorted(_bodies(QueueJournal(tmp_path / "queues.db"))["WorkQueue"]) == left
    more = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(more)]
    sqs.delete_message_batch(QueueUrl=url, Entries=handles)
    assert _bodies(journal) == {}


def test_a_move_to_the_dead_letter_queue_and_a_purge_are_followed(
    journal: QueueJournal, queues: dict[str, QueueInfo], sqs: Any
) -> None:
    url = queues["WorkQueue"].url
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(4):  # maxReceiveCount 3: the fourth receive moves it
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    assert _bodies(journal) == {"WorkDeadLetterQueue": ["poison"]}
    sqs.purge_queue(QueueUrl=queues["WorkDeadLetterQueue"].url)
    assert _bodies(journal) == {}


def test_uninstalled_the_journal_writes_nothing(
    journal: QueueJournal, queues: dict[str, QueueInfo], sqs: Any
) -> None:
    journal.uninstall()
    sqs.send_message(QueueUrl=queues["WorkQueue"].url, MessageBody="unjournaled")
    assert _bodies(journal) == {}


def test_concurrent_sends_are_all_committed_and_read_back_by_a_new_connection(tmp_path: Path) -> None:
    # Sends that wait for the connection are committed together (group commit); each returns
    # with its rows committed, so another connection (the next start) reads all of them.
    import threading

    journal = QueueJournal(tmp_path / "queues.db")

    def send(worker: int) -> None:
        for n in range(50):
            rows = [
                ("EventsQueue", f"{worker}-{n}-{i}", f"body {worker} {n} {i}", {}) for i in range(1 + n % 3)
            ]
            journal.write_many(rows)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not journal._pending
    expected = 8 * sum(1 + n % 3 for n in range(50))
    assert len(QueueJournal(tmp_path / "queues.db").leftovers()["EventsQueue"]) == expected
    journal.close()


def test_a_failed_commit_raises_to_its_sender_and_keeps_none_of_its_rows(tmp_path: Path) -> None:
    journal = QueueJournal(tmp_path / "queues.db")
    journal.write_many([("EventsQueue", "ok-1", "kept", {})])
    bad: Any = None  # the body column is NOT NULL
    with pytest.raises(Exception, match="NOT NULL"):
        journal.write_many(
            [("EventsQueue", "ok-2", "dropped with its batch", {}), ("EventsQueue", "bad", bad, {})]
        )
    journal.write_many([("EventsQueue", "ok-3", "kept too", {})])
    assert [m["body"] for m in journal.leftovers()["EventsQueue"]] == ["kept", "kept too"]
    journal.close()
