"""Durable local queues: every message moto's SQS holds is also in SQLite, from send to delete.

Real SQS keeps a message once SendMessage answered; moto keeps it in memory, so a SIGKILL of
`touchline dev` (or a crash, or the OOM killer) lost what was queued and not yet loaded — hits
already answered 202 (issue 13). The journal hooks moto's queue model in this process: a message
is committed (SQLite WAL; sends waiting for the connection share a transaction) before
SendMessage returns, rewritten when moto moves it to a dead-letter queue, and removed when it is
deleted or its queue purged. At the next start, what the journal still holds is re-sent, like
`queues.json` after a clean stop whose drain gave up. Re-sending is safe for the same reason
redelivery is: rows carry their ids.

`synchronous=NORMAL` in WAL mode survives the process dying (the write is in the kernel before
the call returns), not a power cut: this is a developer's stack. Only queues whose names the
stack created are journaled, so a private moto that a CLI command starts in the same process for
another data dir never writes here.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

JOURNAL_FILE = "queues.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    queue      TEXT NOT NULL,  -- the queue's logical id in the template
    body       TEXT NOT NULL,
    attributes TEXT            -- JSON of the message attributes, binary values base64
)
"""


class QueueJournal:
    """The journal of one data dir; `install` starts writing, `uninstall` stops."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()  # the connection
        self._pending_lock = threading.Lock()
        self._pending: list[_Commit] = []  # sends waiting for the connection
        self._queues: dict[str, str] = {}  # moto queue name -> logical id
        self._handles: dict[str, str] = {}  # receipt handle -> message id
        self._undo: list[Callable[[], None]] = []

    def leftovers(self) -> dict[str, list[dict[str, Any]]]:
        """What a previous run left (it died before delivering), by logical id, in `queues.json`'s shape."""
        found: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            rows = self._db.execute("SELECT queue, body, attributes FROM messages ORDER BY rowid").fetchall()
        for queue, body, attributes in rows:
            entry: dict[str, Any] = {"body": body}
            if attributes:
                entry["attributes"] = json.loads(attributes)
            found.setdefault(queue, []).append(entry)
        return found

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages")

    def install(self, queues: Iterable[tuple[str, str]]) -> None:
        """Journal the queues given as (moto queue name, logical id) from now on."""
        from moto.sqs import models

        self._queues = dict(queues)
        journal = self
        queue_class: Any = models.Queue
        backend_class: Any = models.SQSBackend
        add_message = queue_class.add_message
        delete_message = queue_class.delete_message
        purge_queue = backend_class.purge_queue
        receive_message = backend_class.receive_message

        def journaled_add(queue: Any, message: Any) -> None:
            # Also a move to a dead-letter queue: the row is rewritten under the DLQ's id.
            journal._write(queue.name, message)
            add_message(queue, message)

        def journaled_delete(queue: Any, receipt_handle: str) -> None:
            message_id = journal._message_of(queue, receipt_handle)
            delete_message(queue, receipt_handle)  # an invalid handle raises: nothing forgotten
            if message_id is not None:
                journal._forget(message_id)

        def journaled_purge(backend: Any, queue_name: str) -> None:
            purge_queue(backend, queue_name)
            journal._purge(queue_name)

        def remembering_receive(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
            # Deletes name a receipt handle; remember whose it is instead of scanning the queue.
            messages = receive_message(backend, queue_name, *args, **kwargs)
            if queue_name in journal._queues:
                with journal._lock:
                    journal._handles.update((m.receipt_handle, m.id) for m in messages)
            return messages

        queue_class.add_message = journaled_add
        queue_class.delete_message = journaled_delete
        backend_class.purge_queue = journaled_purge
        backend_class.receive_message = remembering_receive
        self._undo = [
            lambda: setattr(queue_class, "add_message", add_message),
            lambda: setattr(queue_class, "delete_message", delete_message),
            lambda: setattr(backend_class, "purge_queue", purge_queue),
            lambda: setattr(backend_class, "receive_message", receive_message),
        ]

    def uninstall(self) -> None:
        for undo in self._undo:
            undo()
        self._undo = []

    def close(self) -> None:
        self.uninstall()
        self._db.close()

    def _write(self, queue_name: str, message: Any) -> None:
        logical_id = self._queues.get(queue_name)
        if logical_id is None:
            return
        attributes = None
        if message.message_attributes:
            attributes = json.dumps(_jsonable(message.message_attributes))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO messages (message_id, queue, body, attributes) VALUES (?, ?, ?, ?)",
                (message.id, logical_id, message.body, attributes),
            )

    def write_many(self, rows: Iterable[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Keep (logical id, message id, body, message attributes) rows, in one transaction.

        Sends arriving while another one commits are committed together by the next to take the
        connection (group commit): each returns once its rows are in a committed transaction, as
        before, and a failed commit fails every send it held."""
        values = [
            (message_id, logical_id, body, json.dumps(_jsonable(attributes)) if attributes else None)
            for logical_id, message_id, body, attributes in rows
        ]
        if not values:
            return
        mine = _Commit(values)
        with self._pending_lock:
            self._pending.append(mine)
        with self._lock:
            if not mine.done:  # else an earlier holder of the connection committed it
                with self._pending_lock:
                    group, self._pending = self._pending, []
                self._commit(group)
        if mine.error is not None:
            raise mine.error

    def _commit(self, group: list[_Commit]) -> None:
        insert = "INSERT OR REPLACE INTO messages (message_id, queue, body, attributes) VALUES (?, ?, ?, ?)"
        values = [row for commit in group for row in commit.values]
        error: BaseException | None = None
        try:
            if len(values) == 1:  # autocommit: its own transaction
                self._db.execute(insert, values[0])
            else:
                self._db.execute("BEGIN")
                try:
                    self._db.executemany(insert, values)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except Exception as exc:
            error = exc
        for commit in group:
            commit.error, commit.done = error, True

    def forget(self, message_id: str) -> None:
        """The message was deleted."""
        self._forget(message_id)

    def forget_many(self, message_ids: list[str]) -> None:
        """The messages were deleted: one transaction for them all."""
        if len(message_ids) == 1:
            self._forget(message_ids[0])
        elif message_ids:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM messages WHERE message_id = ?", [(i,) for i in message_ids])
                self._db.execute("COMMIT")

    def purge(self, logical_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE queue = ?", (logical_id,))

    def _message_of(self, queue: Any, receipt_handle: str) -> str | None:
        if queue.name not in self._queues:
            return None
        with self._lock:
            message_id = self._handles.pop(receipt_handle, None)
        if message_id is None:  # received before the journal was installed
            message_id = next((m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)), None)
        return message_id

    def _forget(self, message_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE message_id = ?", (message_id,))

    def _purge(self, queue_name: str) -> None:
        logical_id = self._queues.get(queue_name)
        if logical_id is not None:
            with self._lock:
                self._db.execute("DELETE FROM messages WHERE queue = ?", (logical_id,))


class _Commit:
    """One send's rows, and what became of the transaction that held them."""

    __slots__ = ("done", "error", "values")

    def __init__(self, values: list[tuple[str, str, str, str | None]]) -> None:
        self.values = values
        self.done = False
        self.error: BaseException | None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
