"""Helpers shared by tests: the template's AWS resources and roles in moto, the real Lambda
handlers (each run as its function's role), and their sample events."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# Tests and benchmarks import handlers the same way (as Lambda does: by file, own module name).
from bench.common import load_function
from touchline_dev.iam import identity
from touchline_dev.iam.moto_iam import RoleCredentials, create_role, enforced
from touchline_dev.iam.roles import FunctionRole, function_roles

__all__ = [
    "CLICKHOUSE_SECRET_NAME",
    "ROOT",
    "TABLE",
    "TEMPLATE",
    "LambdaContextStub",
    "LocalAwsStack",
    "enforcing_stack",
    "fresh_warehouse",
    "function_of",
    "load_handler_module",
    "moto_stack",
    "sample_event",
]

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
EVENTS_DIR = ROOT / "events"
# The template's names in the local stack (`touchline-<LogicalId>`): what the roles are scoped to.
TABLE = "touchline-ConfigTable"
# Parameters the template leaves to the deployer: the ClickHouse URL secret tests create.
CLICKHOUSE_SECRET_NAME = "touchline/clickhouse-url"
PARAMETERS = {
    "ClickHouseUrlSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
    f"{CLICKHOUSE_SECRET_NAME}-??????"
}
MOTO_SQS = "https://sqs.us-east-1.amazonaws.com"  # mock_aws's queue URLs

# Every boto3 client finding its credentials in the environment signs as the function running.
identity.install()
_stacks: list[LocalAwsStack] = []  # the one the `aws` fixture is enforcing, if any


def sample_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return data


class LambdaContextStub:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class LocalAwsStack:
    """The template's tables, queues and function roles, created in the running moto mock."""

    tables: dict[str, str]
    queues: dict[str, str]
    roles: dict[str, FunctionRole]
    _credentials: dict[str, RoleCredentials] = field(default_factory=dict)
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> pool id
    user_pool_clients: dict[str, str] = field(default_factory=dict)  # logical id -> client id

    @classmethod
    def create(
        cls, template: Path = TEMPLATE, parameters: dict[str, str] | None = None, user_pools: bool = False
    ) -> LocalAwsStack:
        """`user_pools`: also the Cognito pools and app clients (before the roles, whose
        statements name the pools' ARNs; without them those statements are dropped)."""
        import boto3

        from touchline_dev.devstack.resources import LocalResources
        from touchline_dev.devstack.template import load_template

        resources = LocalResources(
            load_template(template), endpoint_url=MOTO_SQS, parameter_overrides=parameters or PARAMETERS
        )
        tables = {t.logical_id: t.name for t in resources.create_tables(boto3.client("dynamodb"))}
        queues = {q.logical_id: q.url for q in resources.create_queues(boto3.client("sqs"))}
        pools = {}
        if user_pools:
            created = resources.create_user_pools(boto3.client("cognito-idp"))
            pools = {pool.logical_id: pool.pool_id for pool in created}
        return cls(
            tables,
            queues,
            function_roles(template, resources.resolver),
            user_pools=pools,
            user_pool_clients=dict(resources.user_pool_clients),
        )

    @staticmethod
    def roles_of(template: Path) -> dict[str, FunctionRole]:
        """The function roles another template would give, resolved like this stack's."""
        from touchline_dev.devstack.resources import LocalResources
        from touchline_dev.devstack.template import load_template

        resources = LocalResources(
            load_template(template), endpoint_url=MOTO_SQS, parameter_overrides=PARAMETERS
        )
        return function_roles(template, resources.resolver)

    def table(self, logical_id: str) -> str:
        return self.tables[logical_id]

    def queue_url(self, logical_id: str) -> str:
        return self.queues[logical_id]

    @contextmanager
    def enforcing(self) -> Iterator[None]:
        """moto checks every call against the caller's role; handlers run as their function's
        (each role is created in moto the first time its function runs)."""
        _stacks.append(self)
        try:
            with enforced():
                yield
        finally:
            _stacks.remove(self)
            self._credentials.clear()

    def credentials(self, function: str) -> RoleCredentials:
        if function not in self._credentials:
            import boto3

            with identity.acting_as(None):
                role = create_role(boto3.client("iam"), boto3.client("sts"), self.roles[function])
            self._credentials[function] = role
        return self._credentials[function]


def enforcing_stack() -> LocalAwsStack:
    """The stack the `aws` fixture is enforcing (to swap a role for a test)."""
    return _stacks[-1]


@functools.cache
def _functions_by_code_dir() -> dict[str, str]:
    from touchline_dev.devstack.template import SERVERLESS_FUNCTION, load_template

    template = load_template(TEMPLATE)
    return {
        str(resource.properties.get("CodeUri", "")).strip("/").removeprefix("functions/"): resource.logical_id
        for resource in template.of_type(SERVERLESS_FUNCTION)
    }


def function_of(code_dir: str) -> str:
    """The template's logical id of `functions/<code_dir>/` (`collector` → `CollectorFunction`)."""
    return _functions_by_code_dir()[code_dir]


def load_handler_module(code_dir: str) -> ModuleType:
    """`functions/<code_dir>/app.py`, its `handler` run with its function's role's credentials
    while the `aws` fixture enforces IAM (and as the harness otherwise)."""
    module = load_function(code_dir)
    function = function_of(code_dir)
    handler = module.handler

    @functools.wraps(handler)
    def run_as_role(event: Any, context: Any) -> Any:
        role = _stacks[-1].credentials(function) if _stacks else None
        with identity.acting_as(role):
            return handler(event, context)

    module.handler = run_as_role
    return module


@contextmanager
def moto_stack(monkeypatch: pytest.MonkeyPatch, *, user_pools: bool = False) -> Iterator[dict[str, str]]:
    """moto with the template's tables and queues, each function's role from template.yaml, and
    IAM enforced: handlers loaded with `load_handler_module` run as their function's role, so a
    permission the template lacks fails the test with AccessDenied. Env set like the template
    (with `user_pools`, the template's Cognito pool too, invitations handed back)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Touchline",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    from moto import mock_aws

    from touchline.aws import clients

    with mock_aws():
        clients.sqs.cache_clear()
        clients.dynamodb.cache_clear()
        clients.secretsmanager.cache_clear()
        clients.cognito.cache_clear()
        stack = LocalAwsStack.create(user_pools=user_pools)
        env = {
            "TOUCHLINE_CONFIG_TABLE": stack.table("ConfigTable"),
            "TOUCHLINE_EVENTS_QUEUE_URL": stack.queue_url("EventsQueue"),
            "TOUCHLINE_SYNC_QUEUE_URL": stack.queue_url("SyncQueue"),
            "TOUCHLINE_SITE_CACHE_SECONDS": "0",
        }
        if user_pools:
            env["TOUCHLINE_USER_POOL_ID"] = stack.user_pools["UserPool"]
            env["TOUCHLINE_USER_POOL_CLIENT_ID"] = stack.user_pool_clients["UserPoolClient"]
            env["TOUCHLINE_INVITE_DELIVERY"] = "return"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        with stack.enforcing():
            yield {**env, "dlq_url": stack.queue_url("EventsDeadLetterQueue")}
        clients.sqs.cache_clear()
        clients.dynamodb.cache_clear()
        clients.secretsmanager.cache_clear()
        clients.cognito.cache_clear()


# One migrated template database per engine directory; each fresh database copies its tables.
_MIGRATED_TEMPLATES: dict[Path, str] = {}


def fresh_warehouse(chdb_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, migrated database inside the shared embedded engine, in TOUCHLINE_CLICKHOUSE_URL."""
    url = fresh_database(chdb_path)
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", url)
    return url


def fresh_database(chdb_path: Path) -> str:
    """The URL of a fresh, migrated database inside the shared embedded engine.

    The migrations run once per session, into a template; every fresh database then gets the
    template's tables by their own CREATE statements and its `schema_migrations` rows (the same
    checksums, so a later `migrate` finds nothing to do): one DDL per table instead of every
    migration's statements, a third of the time.
    """
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    template = _MIGRATED_TEMPLATES.get(chdb_path)
    if template is None:
        template = f"template_{uuid.uuid4().hex[:12]}"
        migrate(connect(f"chdb://{chdb_path}?database={template}"))
        _MIGRATED_TEMPLATES[chdb_path] = template
    database = f"t_{uuid.uuid4().hex[:12]}"
    url = f"chdb://{chdb_path}?database={database}"
    client = connect(url)
    # Tables first, then the materialized views over them (migration 0050's data versions), whose
    # source and target tables are named with the database: each points at the copy's tables.
    tables = client.query(
        "SELECT name, create_table_query FROM system.tables WHERE database = {db:String} "
        "ORDER BY engine = 'MaterializedView', name",
        parameters={"db": template},
    ).result_rows
    for _, create in tables:
        client.command(str(create).replace(f"{template}.", f"{database}."))
    client.command(f"INSERT INTO {database}.schema_migrations SELECT * FROM {template}.schema_migrations")
    return url
