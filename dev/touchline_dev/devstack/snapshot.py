"""What survives a restart: DynamoDB items, and queue messages a shutdown could not deliver.

moto keeps everything in memory, so the stack copies the tables to `<data_dir>/config-table.json`
(items in DynamoDB JSON, keyed by logical id so a renamed stack still finds them) when they change
and on exit, and loads them back on start. Writes go through a temporary file and a rename, so a
crash leaves the previous snapshot whole. Messages still queued when the shutdown drain gives up
(and anything in a dead-letter queue) go to `<data_dir>/queues.json` and are re-sent on start.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .resources import QueueInfo, TableInfo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("touchline_dev.devstack")

TABLES_FILE = "config-table.json"
QUEUES_FILE = "queues.json"
SECRETS_FILE = "secrets.json"
FORMAT = "touchline-devstack/1"


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        if mode is not None:
            os.chmod(tmp, mode)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable snapshot: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} snapshot")
    return data


# --------------------------------------------------------------------------- DynamoDB


def _to_json(value: Any) -> Any:
    """Low-level DynamoDB values to JSON: binary (B, BS) as base64, like DynamoDB JSON exports."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any, kind: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _from_json(v, k) for k, v in value.items()}
    if kind == "B" and isinstance(value, str):
        return base64.b64decode(value)
    if kind == "BS" and isinstance(value, list):
        return [base64.b64decode(v) for v in value]
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def dump_tables(dynamodb: DynamoDBClient, tables: Sequence[TableInfo]) -> dict[str, Any]:
    """Every item of every table, in a stable order (so unchanged tables give identical bytes)."""
    dumped: dict[str, Any] = {}
    for table in tables:
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table.name, ConsistentRead=True):
            items.extend(_to_json(item) for item in page.get("Items", []))
        items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        dumped[table.logical_id] = {"name": table.name, "items": items}
    return {"format": FORMAT, "tables": dumped}


def restore_tables(dynamodb: DynamoDBClient, tables: Sequence[TableInfo], path: Path) -> int:
    """Put the snapshot's items back; tables the template no longer has are reported and skipped."""
    data = _read_json(path)
    if data is None:
        return 0
    by_id = {t.logical_id: t for t in tables}
    restored = 0
    for logical_id, saved in (data.get("tables") or {}).items():
        table = by_id.get(logical_id)
        if table is None:
            log.warning(
                "snapshot has items for %s, which the template no longer declares; skipped", logical_id
            )
            continue
        items = [_from_json(item) for item in saved.get("items", [])]
        for start in range(0, len(items), 25):
            requests: Any = {
                table.name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            }
            while requests:
                response = dynamodb.batch_write_item(RequestItems=requests)
                requests = response.get("UnprocessedItems") or None
        restored += len(items)
    return restored


class Saver(Protocol):
    def save(self) -> bool: ...


class TableSnapshots:
    """Saves the tables when they changed; `save()` is safe to call from any thread."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        tables: Sequence[TableInfo],
        path: Path,
        secrets: SecretSnapshots | None = None,
        cognito: Saver | None = None,
    ) -> None:
        self.dynamodb = dynamodb
        self.tables = list(tables)
        self.path = path
        self.secrets = secrets
        self.cognito = cognito
        self._lock = threading.Lock()
        self._last: bytes | None = path.read_bytes() if path.exists() else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def save(self) -> bool:
        """Write the snapshot if it differs from the last one written; True if it wrote."""
        with self._lock:
            secrets_written = self.secrets.save() if self.secrets is not None else False
            if self.cognito is not None:
                secrets_written = self.cognito.save() or secrets_written
            data = json.dumps(dump_tables(self.dynamodb, self.tables), indent=1, sort_keys=True).encode()
            if data == self._last:
                return secrets_written
            write_atomically(self.path, data)
            self._last = data
            return True

    def start_periodic(self, interval: float = 10.0) -> None:
        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.save()
                except Exception:
                    log.exception("periodic snapshot of the tables failed")

        self._thread = threading.Thread(target=run, name="snapshots", daemon=True)
        self._thread.start()

    def stop_periodic(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


# --------------------------------------------------------------------------- Secrets Manager
# Secrets that commands create (`touchline integrations add`) live in moto like the tables, so
# they are saved the same way, to `secrets.json` (mode 0600: it holds them in clear text; it is a
# developer's local stack, never a deployment).


def dump_secrets(secrets: SecretsManagerClient) -> dict[str, Any]:
    saved: list[dict[str, str]] = []
    for page in secrets.get_paginator("list_secrets").paginate():
        for entry in page.get("SecretList", []):
            try:
                value = secrets.get_secret_value(SecretId=entry["ARN"])
            except secrets.exceptions.InvalidRequestException:  # scheduled for deletion
                continue
            item = {"name": entry["Name"], "description": entry.get("Description", "")}
            if "SecretString" in value:
                item["string"] = value["SecretString"]
            else:
                item["binary"] = base64.b64encode(value["SecretBinary"]).decode("ascii")
            saved.append(item)
    saved.sort(key=lambda item: item["name"])
    return {"format": FORMAT, "secrets": saved}


def restore_secrets(secrets: SecretsManagerClient, path: Path) -> int:
    data = _read_json(path)
    if data is None:
        return 0
    for item in data.get("secrets") or []:
        value: Any = (
            {"SecretString": item["string"]}
            if "string" in item
            else {"SecretBinary": base64.b64decode(item["binary"])}
        )
        secrets.create_secret(Name=item["name"], Description=item.get("description", ""), **value)
    return len(data.get("secrets") or [])


class SecretSnapshots:
    """Saves moto's secrets when they changed (called by `TableSnapshots.save`)."""

    def __init__(self, secrets: SecretsManagerClient, path: Path) -> None:
        self.secrets = secrets
        self.path = path
        self._last: bytes | None = path.read_bytes() if path.exists() else None

    def save(self) -> bool:
        data = json.dumps(dump_secrets(self.secrets), indent=1, sort_keys=True).encode()
        if data == self._last:
            return False
        write_atomically(self.path, data, mode=0o600)
        self._last = data
        return True


# --------------------------------------------------------------------------- SQS


def take_messages(sqs: SQSClient, queue_url: str, *, max_messages: int = 100_000) -> list[dict[str, Any]]:
    """Receive every visible message (hiding each for an hour) and return body + attributes."""
    taken: list[dict[str, Any]] = []
    while len(taken) < max_messages:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=3600,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        for message in messages:
            entry: dict[str, Any] = {"body": message.get("Body", "")}
            if message.get("MessageAttributes"):
                entry["attributes"] = _to_json(message["MessageAttributes"])
            taken.append(entry)
    return taken


def save_messages(path: Path, messages: dict[str, list[dict[str, Any]]]) -> int:
    """Write the left-over messages per queue logical id; remove the file when there are none."""
    messages = {logical_id: entries for logical_id, entries in messages.items() if entries}
    count = sum(len(m) for m in messages.values())
    if count == 0:
        path.unlink(missing_ok=True)
        return 0
    write_atomically(path, json.dumps({"format": FORMAT, "queues": messages}, indent=1).encode())
    return count


def add_saved_messages(path: Path, messages: dict[str, list[dict[str, Any]]]) -> int:
    """Append to the saved messages (a command's private moto is gone after it exits)."""
    saved = (_read_json(path) or {}).get("queues") or {}
    for logical_id, entries in messages.items():
        saved.setdefault(logical_id, []).extend(entries)
    return save_messages(path, saved)


def restore_messages(sqs: SQSClient, queues: Iterable[QueueInfo], path: Path) -> int:
    """Re-send saved messages to their queues, then delete the file (they are in moto now)."""
    data = _read_json(path)
    if data is None:
        return 0
    by_id = {q.logical_id: q for q in queues}
    sent = 0
    for logical_id, messages in (data.get("queues") or {}).items():
        queue = by_id.get(logical_id)
        if queue is None:
            log.warning(
                "%s has %d saved messages but is no longer in the template", logical_id, len(messages)
            )
            continue
        for start in range(0, len(messages), 10):
            entries: Any = []
            for index, message in enumerate(messages[start : start + 10]):
                entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["body"]}
                if message.get("attributes"):
                    entry["MessageAttributes"] = _binary_attributes(message["attributes"])
                entries.append(entry)
            response = sqs.send_message_batch(QueueUrl=queue.url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"could not re-send saved messages to {queue.name}: {response['Failed']}")
            sent += len(entries)
    path.unlink()
    return sent


def _binary_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    restored = {}
    for name, value in attributes.items():
        value = dict(value)
        if "BinaryValue" in value:
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        if "BinaryListValues" in value:
            value["BinaryListValues"] = [base64.b64decode(v) for v in value["BinaryListValues"]]
        restored[name] = value
    return restored
