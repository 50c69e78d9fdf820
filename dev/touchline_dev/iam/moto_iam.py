"""The functions' roles in moto, and moto checking every request against them.

moto's own IAM check (`INITIAL_NO_AUTH_ACTION_COUNT`) matches actions only: it cannot see that
a `PutItem` goes to the config table's `SALT` partition, so a statement scoped by resource or by
`dynamodb:LeadingKeys` would pass or fail for the wrong reason. `enforce()` replaces it with one
that finds the caller's role through moto (signature, session token), asks `requests` what the
call touches and `policy` whether the role's documents allow each part, and answers
`AccessDeniedException` as AWS does. Calls signed with a harness key (`HARNESS_KEYS`: the local
stack's fake credentials and moto's `mock_aws` ones, used by test fixtures, the CLI and the
stack's own bookkeeping) stand for the operator and pass.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from .policy import Request, allowed
from .requests import UNAUTHENTICATED, iam_requests, request_body
from .roles import FunctionRole

# The local stack's fake key (devstack.environment.FAKE_CREDENTIALS) and moto mock_aws's.
HARNESS_KEYS = frozenset({"testing", "FOOBARKEY"})
TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)

_state = threading.local()
_enabled = {"on": False}
_lock = threading.Lock()


@dataclass(frozen=True)
class RoleCredentials:
    function: str
    access_key_id: str
    secret_access_key: str
    session_token: str


class AccessDenied(Exception):
    """Raised inside moto; answered as AWS's AccessDeniedException."""


def create_role(iam: Any, sts: Any, role: FunctionRole) -> RoleCredentials:
    """Create `role` in moto (its documents as one inline policy) and assume it."""
    try:
        arn = iam.create_role(RoleName=role.role_name, AssumeRolePolicyDocument=TRUST_POLICY)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=role.role_name)["Role"]["Arn"]
    statements = [s for document in role.documents for s in document.get("Statement", [])]
    iam.put_role_policy(
        RoleName=role.role_name,
        PolicyName="template",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    assumed = sts.assume_role(RoleArn=arn, RoleSessionName=role.function, DurationSeconds=43200)
    credentials = assumed["Credentials"]
    return RoleCredentials(
        role.function, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )


def create_roles(iam: Any, sts: Any, roles: Mapping[str, FunctionRole]) -> dict[str, RoleCredentials]:
    return {function: create_role(iam, sts, role) for function, role in roles.items()}


def enforce() -> None:
    """From now on moto refuses whatever the caller's role does not allow (process-wide)."""
    _install()
    _enabled["on"] = True


def is_enforced() -> bool:
    return _enabled["on"]


def relax() -> None:
    _enabled["on"] = False


@contextmanager
def enforced() -> Iterator[None]:
    enforce()
    try:
        yield
    finally:
        relax()


def _install() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    with _lock:
        if getattr(ActionAuthenticatorMixin, "_touchline_iam", False):
            return
        original = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

        def authorize(self: Any, resource: str = "*") -> None:
            if not _enabled["on"]:
                original(self, resource)
                return
            _authorize(self)

        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize  # type: ignore[method-assign]
        ActionAuthenticatorMixin._touchline_iam = True  # type: ignore[attr-defined]


def _authorize(response: Any) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.iam.access_control import IAMRequest

    headers = response.headers
    if str(response._get_action()) in UNAUTHENTICATED.get(str(getattr(response, "service_name", "")), ()):
        return  # e.g. a browser's unsigned InitiateAuth: AWS asks no IAM policy either
    authorization = str(headers.get("Authorization") or "")
    scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) < 4:
        raise _denied(JsonRESTError, "MissingAuthenticationToken", "the request is not signed")
    if scope[0] in HARNESS_KEYS:
        return
    parsed = urlparse(response.uri)
    path = response.raw_path + (f"?{parsed.query}" if parsed.query else "")
    caller = IAMRequest(
        account_id=response.current_account,
        method=response.method,
        path=path,
        data=response.data,
        body=response.raw_body,
        headers=headers,
        action=response._get_action(),
    )
    caller.check_signature()
    documents = [_document(p) for p in caller._access_key.collect_policies()]
    service, operation = scope[3], str(response._get_action())
    region, account = scope[2], str(response.current_account)
    body = request_body(response.raw_body, response.querystring)
    hash_key_of, secret_arn_of = _hash_key_of(account, region), _secret_arn_of(account, region)
    for request in iam_requests(service, operation, body, region, account, hash_key_of, secret_arn_of):
        if not allowed(documents, request):
            raise _denied(JsonRESTError, "AccessDeniedException", _message(caller._access_key.arn, request))


def _message(arn: str, request: Request) -> str:
    keys = "".join(f" ({k}: {', '.join(v)})" for k, v in request.context.items())
    return (
        f"User: {arn} is not authorized to perform: {request.action} on resource: {request.resource}"
        f"{keys} because no identity-based policy allows the {request.action} action"
    )


def _denied(base: type[Any], code: str, message: str) -> Exception:
    class Denied(base):  # type: ignore[misc]
        code = 400

    error: Exception = Denied(code, message)
    return error


def _document(policy: Any) -> dict[str, Any]:
    if isinstance(policy, str):
        return dict(json.loads(policy))
    if isinstance(policy, dict) and "policy_document" not in policy:
        return policy
    from moto.iam.access_control import IAMPolicy

    return dict(IAMPolicy(policy)._policy_json)


def _secret_arn_of(account: str, region: str) -> Any:
    def secret_arn(secret_id: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        found = secretsmanager_backends[account][region].secrets.get(secret_id)
        return str(found.arn) if found is not None else None

    return secret_arn


def _hash_key_of(account: str, region: str) -> Any:
    def hash_key(table: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends

        try:
            return str(dynamodb_backends[account][region].get_table(table).hash_key_attr)
        except Exception:  # no such table: the call fails on its own, after the IAM check
            return None

    return hash_key
