"""Sites: the domains Touchline accepts hits for, stored in the config table.

Two items per site: `SITE#<id>` holds the site, `DOMAIN#<domain>` points a domain at it, so the
collector resolves a hit's domain with one strongly-keyed GetItem and registration can refuse a
duplicate domain atomically.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class InvalidDomain(ValueError):
    """Not a hostname we can register."""


class SiteExists(ValueError):
    """The domain is already registered."""


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    domain: str
    created_at: str
    # IANA zone of the site's reporting days (seed 001's `timezone`): date ranges and time
    # buckets of the query API are local days of this zone.
    timezone: str = "UTC"


def normalize_domain(raw: str) -> str:
    """`https://WWW.Shop.example.com:443/x` → `shop.example.com`: the form hits are matched on."""
    domain = raw.strip().lower()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain)
    domain = domain.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    domain = domain.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    domain = domain.removeprefix("www.")
    if not _HOSTNAME.match(domain):
        raise InvalidDomain(f"not a valid domain: {raw!r}")
    return domain


class SiteStore:
    """Sites in the config table, through a low-level DynamoDB client (cheap to import)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, domain: str) -> Site:
        domain = normalize_domain(domain)
        site = Site(secrets.token_hex(8), domain, datetime.now(UTC).isoformat(timespec="seconds"))
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": f"DOMAIN#{domain}"},
                                "sk": {"S": "SITE"},
                                "site_id": {"S": site.site_id},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": f"SITE#{site.site_id}"},
                                "sk": {"S": "SITE"},
                                "site_id": {"S": site.site_id},
                                "domain": {"S": domain},
                                "created_at": {"S": site.created_at},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except self._client.exceptions.TransactionCanceledException as exc:
            raise SiteExists(f"{domain} is already registered") from exc
        return site

    def by_domain(self, domain: str) -> Site | None:
        pointer = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": "SITE"}}
        ).get("Item")
        if not pointer:
            return None
        return self.by_id(pointer["site_id"]["S"])

    def by_id(self, site_id: str) -> Site | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SITE"}}
        ).get("Item")
        return _site_from_item(item) if item else None

    def set_timezone(self, site_id: str, timezone: str) -> None:
        """Store the site's time zone (validated by the caller: touchline.query.dates.zone)."""
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SITE"}},
            UpdateExpression="SET #tz = :tz",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#tz": "timezone"},  # a DynamoDB reserved word
            ExpressionAttributeValues={":tz": {"S": timezone}},
        )

    def resolve(self, id_or_domain: str) -> Site | None:
        """A site by its id, else by its domain (any form `normalize_domain` accepts)."""
        site = self.by_id(id_or_domain) if id_or_domain else None
        if site is not None:
            return site
        try:
            return self.by_domain(normalize_domain(id_or_domain))
        except InvalidDomain:
            return None

    def list(self) -> list[Site]:
        sites: list[Site] = []
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": "SITE#"}, ":s": {"S": "SITE"}},
        ):
            sites.extend(_site_from_item(item) for item in page.get("Items", []))
        return sorted(sites, key=lambda s: s.domain)


def _site_from_item(item: dict[str, Any]) -> Site:
    return Site(
        item["site_id"]["S"],
        item["domain"]["S"],
        item.get("created_at", {}).get("S", ""),
        item.get("timezone", {}).get("S", "UTC"),
    )
