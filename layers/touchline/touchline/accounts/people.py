"""A signed-in person, from the claims API Gateway's JWT authorizer verified.

API Gateway (and, locally, `touchline dev`'s gateway) has already checked the token's signature,
issuer, audience and expiry; the function reads the verified claims from
`requestContext.authorizer.jwt.claims` and turns the subject into a `Principal` with the
person's memberships. Both lookups are cached `ttl_seconds` per container: a changed role or a
removed member takes effect within that (docs/accounts.md).

A sign-in is a Cognito authentication session (`origin_jti`, shared by the tokens a refresh
hands out): the first request seen with a new one is recorded in the config table (conditional
put, kept 31 days) and reported once to the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from touchline.accounts.orgs import OrgStore
from touchline.accounts.permissions import Principal
from touchline.ttl_cache import TtlCache

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SIGN_IN_DAYS = 31


class PeopleResolver:
    def __init__(
        self,
        orgs: OrgStore,
        client: DynamoDBClient,
        table_name: str,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._orgs = orgs
        self._client = client
        self._table = table_name
        self._wall = wall_clock
        self._principals: TtlCache[str, Principal] = TtlCache(ttl_seconds, ttl_seconds, clock=clock)
        self._seen: set[tuple[str, str]] = set()

    def principal(self, claims: Mapping[str, str]) -> Principal | None:
        subject = claims.get("sub", "")
        if not subject or len(subject) > 128:
            return None
        return self._principals.get(subject, self._load)

    def _load(self, subject: str) -> Principal:
        user = self._orgs.user(subject)
        return Principal(
            kind="person",
            id=subject,
            email=user.email if user else "",
            memberships=self._orgs.memberships(subject),
        )

    def new_sign_in(self, claims: Mapping[str, str]) -> str | None:
        """The session id if this is the first request seen from that sign-in, else None."""
        subject = claims.get("sub", "")
        session = claims.get("origin_jti") or f"auth_time:{claims.get('auth_time', '')}"
        if not subject:
            return None
        key = (subject, session)
        if key in self._seen:
            return None
        if len(self._seen) >= 10_000:
            self._seen.clear()
        self._seen.add(key)
        return session if self._claim(subject, session) else None

    def _claim(self, subject: str, session: str) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"USER#{subject}"},
                    "sk": {"S": f"SIGNIN#{session}"},
                    "expires_at": {"N": str(int(self._wall()) + SIGN_IN_DAYS * 86400)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True
