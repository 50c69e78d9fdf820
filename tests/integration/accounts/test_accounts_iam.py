"""AccountsFunction runs as the role template.yaml gives it, and that role is what it needs.

The world enforces IAM (every handler runs as its function's role, expanded from the template
and checked by moto on every call: actions, ARNs, `dynamodb:LeadingKeys`), so the whole matrix
passing shows the role is enough. These show it is also checked, and narrow: without its
Cognito statement an invitation fails as it would in AWS, and the role reaches none of the
config table's partitions that are not the accounts' own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from accounts_world import World
from helpers import TEMPLATE, LocalAwsStack, enforcing_stack
from touchline.accounts.permissions import Role
from touchline_dev.devstack.template import parse_template_text
from touchline_dev.iam.identity import acting_as


@contextmanager
def accounts_role_from(template: Path) -> Iterator[None]:
    """AccountsFunction's role as `template` would make it, for the block."""
    stack = enforcing_stack()
    kept = stack.roles["AccountsFunction"]
    stack.roles["AccountsFunction"] = LocalAwsStack.roles_of(template)["AccountsFunction"]
    stack._credentials.pop("AccountsFunction", None)
    try:
        yield
    finally:
        stack.roles["AccountsFunction"] = kept
        stack._credentials.pop("AccountsFunction", None)  # the next call restores its policy


def _without_cognito(out: Path) -> Path:
    data = parse_template_text(TEMPLATE.read_text())
    statements = data["Resources"]["AccountsFunction"]["Properties"]["Policies"]
    kept = []
    for policy in statements:
        if "Statement" in policy:
            policy = {"Statement": [s for s in policy["Statement"] if "cognito-idp" not in json.dumps(s)]}
        kept.append(policy)
    assert json.dumps(kept) != json.dumps(statements)
    data["Resources"]["AccountsFunction"]["Properties"]["Policies"] = kept
    out.write_text(json.dumps(data))
    return out


def test_without_its_cognito_statement_an_invitation_is_denied_and_nothing_half_done(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    owner = world.a.members[Role.OWNER]
    with accounts_role_from(_without_cognito(tmp_path / "template.json")):
        status, answer, _ = world.request(
            "POST",
            f"/api/v1/orgs/{world.a.org_id}/members",
            user=owner,
            body={"email": "denied@a.example.com", "role": "viewer"},
        )
    assert status == 503 and answer["error"]["code"] == "unavailable"
    assert "AccessDeniedException" in caplog.text and "cognito-idp:AdminCreateUser" in caplog.text
    _, members, _ = world.request("GET", f"/api/v1/orgs/{world.a.org_id}/members", user=owner)
    assert "denied@a.example.com" not in {m["email"] for m in members}


@pytest.mark.parametrize(
    "partition", ["SALT", "WRITEKEY#x", "TOKEN#x", "SYNC#s#klaviyo", "RATE#k", "SUPPRESS#s"]
)
def test_the_role_reaches_only_the_accounts_partitions(world: World, partition: str) -> None:
    """Salts, write keys, payment tokens, sync cursors, rate windows and GDPR suppressions are
    other functions' business: the accounts role may neither read nor write them."""
    credentials = enforcing_stack().credentials("AccountsFunction")
    with acting_as(credentials):
        dynamodb = boto3.client("dynamodb")
        key = {"pk": {"S": partition}, "sk": {"S": "x"}}
        table = world.env["TOUCHLINE_CONFIG_TABLE"]
        with pytest.raises(dynamodb.exceptions.ClientError, match="AccessDenied"):
            dynamodb.get_item(TableName=table, Key=key)
        with pytest.raises(dynamodb.exceptions.ClientError, match="AccessDenied"):
            dynamodb.put_item(TableName=table, Item=key)
