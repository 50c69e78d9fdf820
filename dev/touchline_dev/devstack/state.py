"""What the CLI needs from the data dir: is a stack running, and local AWS with or without one.

`running_stack` reads `<data_dir>/stack.json` and trusts it only while its process is alive and
holds the data-dir lock. `local_aws` gives a command (e.g. `touchline sites add`) DynamoDB/SQS:
the running stack's moto when there is one, so the stack sees the change at once; otherwise a
private moto loaded from the snapshot and saved back afterwards, under the same lock.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .intrinsics import REGION
from .lock import DataDirLock, DataDirLockedError, is_locked, read_holder

log = logging.getLogger("touchline_dev.devstack")

STACK_FILE = "stack.json"
CLICKHOUSE_DIR = "clickhouse"
DEFAULT_DATA_DIR = Path(".touchline")
DEFAULT_TEMPLATE = Path("template.yaml")


def clickhouse_url(data_dir: Path) -> str:
    """The embedded ClickHouse of a data dir: `chdb:///abs/path/clickhouse`."""
    return "chdb://" + str((data_dir / CLICKHOUSE_DIR).resolve())


@dataclass(frozen=True)
class StackInfo:
    """The contents of `stack.json`, written by a running `touchline dev`."""

    pid: int
    http_url: str
    moto_endpoint: str
    region: str
    data_dir: str
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0
    # Cognito user pools and app clients by logical id (moto's ids).
    user_pools: dict[str, str] = field(default_factory=dict)
    user_pool_clients: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StackInfo:
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack(data_dir: Path = DEFAULT_DATA_DIR) -> StackInfo | None:
    """The stack serving `data_dir`, or None (no stack.json, or a stale one from a crash)."""
    try:
        info = StackInfo.from_json((data_dir / STACK_FILE).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        return None
    if not _pid_alive(info.pid) or not is_locked(data_dir):
        return None
    holder, _ = read_holder(data_dir)
    return info if holder == info.pid else None


def wait_for_stack(data_dir: Path, timeout: float) -> StackInfo | None:
    """Wait for a stack that holds the lock but is still starting (no stack.json yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = running_stack(data_dir)
        if info is not None:
            return info
        if not is_locked(data_dir):
            return None
        time.sleep(0.2)
    return None


def call_stack(
    stack: StackInfo, path: str, payload: Any = None, *, timeout: float = 60.0
) -> tuple[int, bytes]:
    """POST to a dev endpoint of the running stack (`/_dev/sql`, `/_dev/snapshot`)."""
    data = json.dumps(payload if payload is not None else {}).encode()
    request = urllib.request.Request(
        stack.http_url.rstrip("/") + path,
        data=data,
        method="POST",
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def query_stack(
    stack: StackInfo, query: str, fmt: str = "json", params: Mapping[str, Any] | None = None
) -> Any:
    """Run SQL in the running stack's ClickHouse with server-side `params` (`{name:Type}`): a
    `{"columns", "rows"}` dict, or TSV text."""
    from touchline_dev.sql_params import encode

    payload = {"query": query, "format": fmt, "parameters": encode(params or {})}
    status, body = call_stack(stack, "/_dev/sql", payload)
    if status != 200:
        try:
            message = json.loads(body).get("error", body.decode(errors="replace"))
        except ValueError:
            message = body.decode(errors="replace")
        raise RuntimeError(message)
    return json.loads(body) if fmt == "json" else body.decode()


@dataclass(frozen=True)
class LocalAws:
    """Where a command finds the local AWS services of a data dir."""

    endpoint_url: str
    region: str
    tables: dict[str, str]
    queues: dict[str, str]
    user_pools: dict[str, str] = field(default_factory=dict)
    user_pool_clients: dict[str, str] = field(default_factory=dict)

    def user_pool_id(self, logical_id: str = "UserPool") -> str:
        if logical_id not in self.user_pools:
            raise KeyError(f"the template has no user pool {logical_id}")
        return self.user_pools[logical_id]

    def table_name(self, logical_id: str = "ConfigTable") -> str:
        if logical_id not in self.tables:
            raise KeyError(
                f"the template has no table {logical_id} (it has: {', '.join(self.tables) or 'none'})"
            )
        return self.tables[logical_id]

    def queue_url(self, logical_id: str) -> str:
        if logical_id not in self.queues:
            raise KeyError(f"the template has no queue {logical_id}")
        return self.queues[logical_id]

    def client(self, service_name: str) -> Any:
        from .moto_backend import aws_client

        return aws_client(service_name, self.endpoint_url, self.region)

    def environ(self) -> dict[str, str]:
        """Variables that point env-configured boto3 clients at this moto."""
        from .environment import aws_environment

        values = aws_environment(self.endpoint_url, self.region)
        values.pop("TZ")
        return values


@contextmanager
def local_aws(
    data_dir: Path = DEFAULT_DATA_DIR, template: Path = DEFAULT_TEMPLATE, *, wait_for_start: float = 60.0
) -> Iterator[LocalAws]:
    """Local DynamoDB/SQS for one command, saved to the data dir's snapshot afterwards.

    Raises `DataDirLockedError` if another command (not a stack) holds the data dir.
    """
    stack = running_stack(data_dir)
    lock = DataDirLock(data_dir, role="command")
    if stack is None:
        try:
            lock.acquire()
        except DataDirLockedError as exc:
            if exc.role != "dev":
                raise
            stack = wait_for_stack(data_dir, wait_for_start)
            if stack is None:
                raise
    if stack is not None:
        yield LocalAws(
            stack.moto_endpoint,
            stack.region,
            dict(stack.tables),
            dict(stack.queues),
            dict(stack.user_pools),
            dict(stack.user_pool_clients),
        )
        try:
            status, body = call_stack(stack, "/_dev/snapshot")
        except OSError as exc:  # it stopped meanwhile; it saved on its way out
            log.warning("could not ask the running stack to save its snapshot: %s", exc)
            return
        if status != 200:
            log.warning("the running stack did not save its snapshot: %s", body.decode(errors="replace"))
        return
    try:
        with _private_aws(data_dir, template) as aws:
            yield aws
    finally:
        lock.release()


@contextmanager
def _private_aws(data_dir: Path, template_path: Path) -> Iterator[LocalAws]:
    from .cognito import COGNITO_FILE, CognitoSnapshots, restore_users
    from .moto_backend import MotoServer, aws_client
    from .resources import LocalResources
    from .snapshot import (
        QUEUES_FILE,
        SECRETS_FILE,
        TABLES_FILE,
        SecretSnapshots,
        TableSnapshots,
        add_saved_messages,
        restore_secrets,
        restore_tables,
        take_messages,
    )
    from .template import load_template

    template = load_template(template_path)
    moto = MotoServer()
    try:
        moto.reset()
        resources = LocalResources(template, endpoint_url=moto.url)
        dynamodb = aws_client("dynamodb", moto.url, REGION)
        sqs = aws_client("sqs", moto.url, REGION)
        tables = resources.create_tables(dynamodb)
        queues = resources.create_queues(sqs)
        restore_tables(dynamodb, tables, data_dir / TABLES_FILE)
        secretsmanager = aws_client("secretsmanager", moto.url, REGION)
        restore_secrets(secretsmanager, data_dir / SECRETS_FILE)
        pools = resources.create_user_pools(aws_client("cognito-idp", moto.url, REGION))
        restore_users(pools, data_dir / COGNITO_FILE)
        snapshots = TableSnapshots(
            dynamodb,
            tables,
            data_dir / TABLES_FILE,
            secrets=SecretSnapshots(secretsmanager, data_dir / SECRETS_FILE),
            cognito=CognitoSnapshots(pools, data_dir / COGNITO_FILE),
        )
        try:
            yield LocalAws(
                moto.url,
                REGION,
                {t.logical_id: t.name for t in tables},
                {q.logical_id: q.url for q in queues},
                {p.logical_id: p.pool_id for p in pools},
                dict(resources.user_pool_clients),
            )
        finally:
            # Saved even if the command failed half-way: the files match what moto holds, as
            # they would with a running stack. Messages it enqueued go to the next `touchline dev`.
            snapshots.save()
            add_saved_messages(
                data_dir / QUEUES_FILE, {q.logical_id: take_messages(sqs, q.url) for q in queues}
            )
    finally:
        moto.stop()
