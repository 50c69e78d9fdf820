"""Organisations, the people in them and the sites they own, in the config table.

Items (pk / sk):
- `ORG#<org>` / `ORG`: the organisation (name, optional monthly event limit);
- `ORG#<org>` / `MEMBER#<user>` and `USER#<user>` / `ORG#<org>`: one membership, written
  together in one transaction: the first lists an organisation's members, the second is the
  single Query that turns a signed-in person into their memberships;
- `USER#<user>` / `USER` and `EMAIL#<email>` / `USER`: a person (their Cognito `sub`) and the
  pointer an invitation by email finds them with;
- `ORG#<org>` / `SITE#<site>`: a site the organisation owns (the site item holds `org_id` too).

A person's id and email are stored as `account_user` / `account_email`, never `user_id` /
`email`: those names belong to the visitors of the sites, and GDPR deletion of a visitor
(`touchline.identity.gdpr`) removes config items that carry them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from touchline.accounts.permissions import Membership, Role

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class AccountsError(ValueError):
    """A request the data refuses (unknown organisation, last owner, duplicate member...)."""


@dataclass(frozen=True, slots=True)
class Organisation:
    org_id: str
    name: str
    created_at: str
    event_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    org_id: str
    user_id: str
    email: str
    role: Role
    site_ids: frozenset[str] | None
    created_at: str
    invited_by: str = ""

    def membership(self) -> Membership:
        return Membership(self.org_id, self.role, self.site_ids)


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    email: str
    created_at: str


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 254:
        raise AccountsError(f"not an email address: {raw!r}")
    return email


class OrgStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ organisations

    def create(self, name: str) -> Organisation:
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise AccountsError("an organisation name is 1-100 characters")
        org = Organisation("org_" + secrets.token_hex(6), name, now_text())
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"ORG#{org.org_id}"},
                "sk": {"S": "ORG"},
                "org_id": {"S": org.org_id},
                "name": {"S": org.name},
                "created_at": {"S": org.created_at},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return org

    def get(self, org_id: str) -> Organisation | None:
        if not org_id.startswith("org_"):
            return None
        item = self._get(f"ORG#{org_id}", "ORG")
        return _org(item) if item else None

    def all(self) -> list[Organisation]:
        items = self._scan("ORG#", "ORG")
        return sorted((_org(i) for i in items), key=lambda o: (o.name.lower(), o.org_id))

    def update(self, org_id: str, *, name: str | None = None, event_limit: int | bool | None = False) -> None:
        """Rename and/or set the monthly event limit (None removes it; False leaves it)."""
        sets, removes, values = [], [], {}
        if name is not None:
            name = name.strip()
            if not 1 <= len(name) <= 100:
                raise AccountsError("an organisation name is 1-100 characters")
            sets.append("#n = :n")
            values[":n"] = {"S": name}
        if event_limit is None:
            removes.append("event_limit")
        elif event_limit is not False:
            sets.append("event_limit = :l")
            values[":l"] = {"N": str(int(event_limit))}
        if not sets and not removes:
            return
        expression = ("SET " + ", ".join(sets) if sets else "") + (
            " REMOVE " + ", ".join(removes) if removes else ""
        )
        kwargs: dict[str, Any] = {}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if name is not None:
            kwargs["ExpressionAttributeNames"] = {"#n": "name"}
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": "ORG"}},
            UpdateExpression=expression.strip(),
            ConditionExpression="attribute_exists(pk)",
            **kwargs,
        )

    # ------------------------------------------------------------------ people

    def user(self, user_id: str) -> User | None:
        item = self._get(f"USER#{user_id}", "USER")
        return (
            User(user_id, item["account_email"]["S"], item.get("created_at", {}).get("S", ""))
            if item
            else None
        )

    def user_by_email(self, email: str) -> User | None:
        item = self._get(f"EMAIL#{normalize_email(email)}", "USER")
        return self.user(item["account_user"]["S"]) if item else None

    def save_user(self, user_id: str, email: str) -> User:
        """Record a person (idempotent: an existing record is kept as is)."""
        email = normalize_email(email)
        existing = self.user(user_id)
        if existing is not None:
            return existing
        user = User(user_id, email, now_text())
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"USER#{user_id}"},
                            "sk": {"S": "USER"},
                            "account_user": {"S": user_id},
                            "account_email": {"S": email},
                            "created_at": {"S": user.created_at},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"EMAIL#{email}"},
                            "sk": {"S": "USER"},
                            "account_user": {"S": user_id},
                        },
                    }
                },
            ]
        )
        return user

    # ------------------------------------------------------------------ memberships

    def memberships(self, user_id: str) -> dict[str, Membership]:
        """Every organisation the person belongs to, with their role there (one Query)."""
        items = self._query(f"USER#{user_id}", "ORG#")
        return {
            item["org_id"]["S"]: Membership(item["org_id"]["S"], Role(item["role"]["S"]), _site_set(item))
            for item in items
        }

    def members(self, org_id: str) -> list[Member]:
        items = self._query(f"ORG#{org_id}", "MEMBER#")
        return sorted((_member(org_id, i) for i in items), key=lambda m: m.email)

    def member(self, org_id: str, user_id: str) -> Member | None:
        item = self._get(f"ORG#{org_id}", f"MEMBER#{user_id}")
        return _member(org_id, item) if item else None

    def put_member(self, member: Member, *, new: bool) -> None:
        """Write both copies of a membership; `new` refuses to overwrite an existing one."""
        common: dict[str, Any] = {
            "org_id": {"S": member.org_id},
            "account_user": {"S": member.user_id},
            "account_email": {"S": member.email},
            "role": {"S": member.role.value},
            "created_at": {"S": member.created_at},
            "invited_by": {"S": member.invited_by},
        }
        if member.site_ids is not None:
            # A string set cannot be empty: an empty list of sites is stored as the marker "-".
            common["sites"] = {"SS": sorted(member.site_ids) or ["-"]}
        puts: list[Any] = []
        for pk, sk in (
            (f"ORG#{member.org_id}", f"MEMBER#{member.user_id}"),
            (f"USER#{member.user_id}", f"ORG#{member.org_id}"),
        ):
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": {"pk": {"S": pk}, "sk": {"S": sk}, **common},
            }
            if new:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            puts.append({"Put": put})
        try:
            self._client.transact_write_items(TransactItems=puts)
        except self._client.exceptions.TransactionCanceledException as exc:
            raise AccountsError(f"{member.email} is already a member of this organisation") from exc

    def delete_member(self, org_id: str, user_id: str) -> None:
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": f"MEMBER#{user_id}"}},
                    }
                },
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": f"USER#{user_id}"}, "sk": {"S": f"ORG#{org_id}"}},
                    }
                },
            ]
        )

    # ------------------------------------------------------------------ sites of an organisation

    def site_ids(self, org_id: str) -> list[str]:
        return sorted(item["site_id"]["S"] for item in self._query(f"ORG#{org_id}", "SITE#"))

    # ------------------------------------------------------------------ low level

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        ).get("Item")
        return item

    def _query(self, pk: str, sk_prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":sk": {"S": sk_prefix}},
            ConsistentRead=True,
        ):
            items.extend(page.get("Items", []))
        return items

    def _scan(self, pk_prefix: str, sk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": pk_prefix}, ":s": {"S": sk}},
        ):
            items.extend(page.get("Items", []))
        return items


def _org(item: dict[str, Any]) -> Organisation:
    limit = item.get("event_limit", {}).get("N")
    return Organisation(
        item["org_id"]["S"],
        item["name"]["S"],
        item.get("created_at", {}).get("S", ""),
        int(limit) if limit is not None else None,
    )


def _site_set(item: dict[str, Any]) -> frozenset[str] | None:
    if "sites" not in item:
        return None
    return frozenset(s for s in item["sites"]["SS"] if s != "-")


def _member(org_id: str, item: dict[str, Any]) -> Member:
    return Member(
        org_id=org_id,
        user_id=item["account_user"]["S"],
        email=item.get("account_email", {}).get("S", ""),
        role=Role(item["role"]["S"]),
        site_ids=_site_set(item),
        created_at=item.get("created_at", {}).get("S", ""),
        invited_by=item.get("invited_by", {}).get("S", ""),
    )
