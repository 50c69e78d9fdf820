"""The loader's and the aggregation's roles are no wider than what their code does.

What each function needs is shown by its handler tests, which run it as its role under enforced
IAM (test_loader.py, test_commerce_handler.py, the local stack's e2e tests): a missing permission
fails them with AccessDenied. These show the roles are also narrow: the loader never reaches the
config table, and AggregatesFunction (which lists the sites, reads their settings and writes its
watermarks) neither deletes nor updates anything, nor writes any partition that is not a site's.
Each is checked against the old template too (DynamoDBReadPolicy on the loader,
DynamoDBCrudPolicy on the aggregation), where the same requests were allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from helpers import TABLE, TEMPLATE, LocalAwsStack, enforcing_stack
from touchline_dev.devstack.template import parse_template_text
from touchline_dev.iam.identity import acting_as

KEY = {"pk": {"S": "SITE#s1"}, "sk": {"S": "SITE"}}
ITEM = {**KEY, "domain": {"S": "shop.example.com"}}

# (function, what it must not do): each a call on the config table.
DENIED: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("LoaderFunction", "read a site", lambda d: d.get_item(TableName=TABLE, Key=KEY)),
    ("LoaderFunction", "scan the table", lambda d: d.scan(TableName=TABLE)),
    ("AggregatesFunction", "delete a site", lambda d: d.delete_item(TableName=TABLE, Key=KEY)),
    (
        "AggregatesFunction",
        "update a site",
        lambda d: d.update_item(
            TableName=TABLE,
            Key=KEY,
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "domain"},
            ExpressionAttributeValues={":d": {"S": "evil.example.com"}},
        ),
    ),
    (
        "AggregatesFunction",
        "write the salt",
        lambda d: d.put_item(TableName=TABLE, Item={"pk": {"S": "SALT"}, "sk": {"S": "2026-01-01"}}),
    ),
    (
        "AggregatesFunction",
        "write an API key",
        lambda d: d.put_item(TableName=TABLE, Item={"pk": {"S": "APIKEY#k"}, "sk": {"S": "KEY"}}),
    ),
    (
        "AggregatesFunction",
        "read a payment token",
        lambda d: d.get_item(TableName=TABLE, Key={"pk": {"S": "TOKEN#t"}, "sk": {"S": "TOKEN"}}),
    ),
    (
        "AggregatesFunction",
        "batch-write sites",
        lambda d: d.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": ITEM}}]}),
    ),
]
# What AggregatesFunction does do (config/sites.py, attribution_settings.py, watermarks.py).
ALLOWED: list[tuple[str, Callable[[Any], Any]]] = [
    ("list the sites", lambda d: d.scan(TableName=TABLE)),
    ("read a site", lambda d: d.get_item(TableName=TABLE, Key=KEY)),
    (
        "read a site's settings and goals",
        lambda d: d.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "SITE#s1"}},
        ),
    ),
    (
        "write a watermark",
        lambda d: d.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "SITE#s1"}, "sk": {"S": "WATERMARK#aggregate"}, "position_ms": {"N": "1"}},
        ),
    ),
]


@contextmanager
def role_from(function: str, template: Path | None) -> Iterator[Any]:
    """A DynamoDB client signed as `function`'s role (as `template` would make it), for the block."""
    stack = enforcing_stack()
    kept = stack.roles[function]
    if template is not None:
        stack.roles[function] = LocalAwsStack.roles_of(template)[function]
    stack._credentials.pop(function, None)
    try:
        with acting_as(stack.credentials(function)):
            yield boto3.client("dynamodb")
    finally:
        stack.roles[function] = kept
        stack._credentials.pop(function, None)


def old_template(out: Path) -> Path:
    """template.yaml with the roles these two functions had before they were narrowed."""
    data = parse_template_text(TEMPLATE.read_text())
    table = {"TableName": {"Ref": "ConfigTable"}}
    secret = {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "ClickHouseUrlSecretArn"}}}
    resources = data["Resources"]
    resources["LoaderFunction"]["Properties"]["Policies"] = [secret, {"DynamoDBReadPolicy": table}]
    resources["AggregatesFunction"]["Properties"]["Policies"] = [secret, {"DynamoDBCrudPolicy": table}]
    out.write_text(json.dumps(data))
    return out


def denied(call: Callable[[Any], Any], dynamodb: Any) -> bool:
    try:
        call(dynamodb)
    except dynamodb.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "AccessDeniedException":
            return True
        raise
    return False


@pytest.mark.parametrize(("function", "what", "call"), DENIED, ids=[f"{f}: {w}" for f, w, _ in DENIED])
def test_the_role_refuses_what_the_function_never_does(
    aws: dict[str, str], function: str, what: str, call: Callable[[Any], Any]
) -> None:
    with role_from(function, None) as dynamodb:
        assert denied(call, dynamodb), f"{function} may {what}"


@pytest.mark.parametrize(("what", "call"), ALLOWED, ids=[w for w, _ in ALLOWED])
def test_the_aggregation_role_allows_what_it_does(
    aws: dict[str, str], what: str, call: Callable[[Any], Any]
) -> None:
    with role_from("AggregatesFunction", None) as dynamodb:
        assert not denied(call, dynamodb), f"AggregatesFunction may not {what}"


def test_the_old_roles_allowed_all_of_it(aws: dict[str, str], tmp_path: Path) -> None:
    """The refusals above are the narrowing's doing: under the old policies every call passed."""
    old = old_template(tmp_path / "template.json")
    for function, what, call in DENIED:
        with role_from(function, old) as dynamodb:
            assert not denied(call, dynamodb), f"the old {function} role refused to {what}"
