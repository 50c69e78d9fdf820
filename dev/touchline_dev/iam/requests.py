"""What an AWS request asks for, in IAM's terms: the action, the resource ARN, the condition keys.

One API call can be several IAM requests: a `TransactWriteItems` is a `PutItem`, `UpdateItem`,
`DeleteItem` or `ConditionCheckItem` per item, each on its own table and partition key, and a
`SendMessageBatch` is `sqs:SendMessage`. DynamoDB calls carry `dynamodb:LeadingKeys` (the
partition key values they touch); a `Scan` has none, which `ForAllValues` conditions allow, as
in AWS. A Cognito administrative call is on its user pool's ARN; Cognito's public client API
(`UNAUTHENTICATED`) is not IAM's business. Services not listed here are asked about `*`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .policy import Request

# API operations whose IAM action has another name.
_ACTION_OF = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# Operations AWS answers without IAM: Cognito's public client API, authorized by the app client
# id, the user's password or their access token, never by a signature
# (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html).
UNAUTHENTICATED = {
    "cognito-idp": frozenset(
        {
            "InitiateAuth",
            "RespondToAuthChallenge",
            "SignUp",
            "ConfirmSignUp",
            "ForgotPassword",
            "ConfirmForgotPassword",
            "ResendConfirmationCode",
            "GetUser",
            "ChangePassword",
            "GlobalSignOut",
            "RevokeToken",
            "AssociateSoftwareToken",
            "VerifySoftwareToken",
            "SetUserMFAPreference",
            "UpdateUserAttributes",
            "DeleteUser",
        }
    ),
}
_KEY_CONDITION = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")

HashKeyOf = Callable[[str], str | None]  # table name → its partition key attribute
SecretArnOf = Callable[[str], str | None]  # secret name or ARN → the stored secret's full ARN


def iam_requests(
    service: str,
    operation: str,
    body: Mapping[str, Any],
    region: str,
    account: str,
    hash_key_of: HashKeyOf,
    secret_arn_of: SecretArnOf = lambda _secret: None,
) -> list[Request]:
    action = _ACTION_OF.get(f"{service}:{operation}", f"{service}:{operation}")
    arn = f"arn:aws:{service}:{region}:{account}"
    if service == "dynamodb":
        return _dynamodb(operation, body, arn, hash_key_of)
    if service == "sqs":
        url = str(body.get("QueueUrl") or "")
        name = url.rstrip("/").rsplit("/", 1)[-1] if url else str(body.get("QueueName") or "")
        return [Request(action, f"{arn}:{name}" if name else "*")]
    if service == "secretsmanager":
        secret = str(body.get("SecretId") or body.get("Name") or "")
        if not secret:
            return [Request(action, "*")]
        # IAM judges a secret by its full ARN (with the random suffix), however it was named.
        stored = secret_arn_of(secret)
        return [
            Request(action, stored or (secret if secret.startswith("arn:") else f"{arn}:secret:{secret}"))
        ]
    if service == "cognito-idp" and body.get("UserPoolId"):
        return [Request(action, f"{arn}:userpool/{body['UserPoolId']}")]
    return [Request(action, "*")]


def _dynamodb(operation: str, body: Mapping[str, Any], arn: str, hash_key_of: HashKeyOf) -> list[Request]:
    def table_arn(table: str, index: str | None = None) -> str:
        return f"{arn}:table/{table}" + (f"/index/{index}" if index else "")

    def leading(table: str, keys: list[Mapping[str, Any]]) -> dict[str, list[str]]:
        attribute = hash_key_of(table)
        values = sorted({_scalar(k[attribute]) for k in keys if attribute and attribute in k})
        return {"dynamodb:LeadingKeys": values} if values else {}

    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in body.get("TransactItems", []):
            for kind, part in item.items():
                table = str(part["TableName"])
                key = part.get("Key") or part.get("Item") or {}
                context = leading(table, [key])
                found.append(Request(f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table_arn(table), context))
        return found
    if operation in ("BatchGetItem", "BatchWriteItem"):
        found = []
        for table, requests in (body.get("RequestItems") or {}).items():
            if operation == "BatchGetItem":
                keys = list(requests.get("Keys", []))
            else:
                keys = [
                    r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") or {}
                    for r in requests
                ]
            found.append(Request(f"dynamodb:{operation}", table_arn(table), leading(table, keys)))
        return found
    if not body.get("TableName"):
        return [Request(f"dynamodb:{operation}", "*")]
    table = str(body["TableName"])
    resource = table_arn(table, body.get("IndexName"))
    key = body.get("Key") or body.get("Item")
    if key:
        return [Request(f"dynamodb:{operation}", resource, leading(table, [key]))]
    if operation == "Query":
        return [Request("dynamodb:Query", resource, _query_leading_keys(table, body, hash_key_of))]
    return [Request(f"dynamodb:{operation}", resource)]


def _query_leading_keys(table: str, body: Mapping[str, Any], hash_key_of: HashKeyOf) -> dict[str, list[str]]:
    attribute = hash_key_of(table)
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    for name, placeholder in _KEY_CONDITION.findall(str(body.get("KeyConditionExpression") or "")):
        if names.get(name, name) == attribute and placeholder in values:
            return {"dynamodb:LeadingKeys": [_scalar(values[placeholder])]}
    legacy = (body.get("KeyConditions") or {}).get(attribute or "")
    if legacy and legacy.get("ComparisonOperator") == "EQ":
        return {"dynamodb:LeadingKeys": [_scalar(legacy["AttributeValueList"][0])]}
    return {}


def _scalar(value: Mapping[str, Any]) -> str:
    """A key attribute value ({"S": "x"}, {"N": "1"}, {"B": "…"}) as IAM compares it."""
    return str(next(iter(value.values())))


def request_body(raw: bytes | str | None, querystring: Mapping[str, list[str]]) -> dict[str, Any]:
    """The parameters of a JSON-protocol request, or a query-protocol one's first values."""
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {k: v[0] for k, v in querystring.items() if v}
