"""Shared fixtures: moto-backed AWS, the embedded ClickHouse, and the real Lambda handlers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from helpers import LambdaContextStub, LocalAwsStack
from touchline.aws import clients
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate


@pytest.fixture
def lambda_context() -> LambdaContextStub:
    return LambdaContextStub()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto with the template's tables and queues, each function's role from template.yaml, and
    IAM enforced: handlers loaded with `load_handler_module` run as their function's role, so a
    permission the template lacks fails the test with AccessDenied. Env set like the template."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Touchline",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        clients.sqs.cache_clear()
        clients.dynamodb.cache_clear()
        clients.secretsmanager.cache_clear()
        stack = LocalAwsStack.create()
        env = {
            "TOUCHLINE_CONFIG_TABLE": stack.table("ConfigTable"),
            "TOUCHLINE_EVENTS_QUEUE_URL": stack.queue_url("EventsQueue"),
            "TOUCHLINE_SYNC_QUEUE_URL": stack.queue_url("SyncQueue"),
            "TOUCHLINE_SITE_CACHE_SECONDS": "0",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        with stack.enforcing():
            yield {**env, "dlq_url": stack.queue_url("EventsDeadLetterQueue")}
        clients.sqs.cache_clear()
        clients.dynamodb.cache_clear()
        clients.secretsmanager.cache_clear()


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chdb allows one engine directory per process, so the whole session shares one."""
    return tmp_path_factory.mktemp("clickhouse")


@pytest.fixture
def warehouse_url(chdb_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, migrated database per test inside the shared embedded engine."""
    url = f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}"
    migrate(connect(url))
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", url)
    return url
