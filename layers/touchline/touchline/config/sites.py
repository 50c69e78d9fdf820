"""Sites: the domains Touchline accepts hits for, stored in the config table.

Two items per site: `SITE#<id>` holds the site, `DOMAIN#<domain>` points a domain at it, so the
collector resolves a hit's domain with one strongly-keyed GetItem and registration can refuse a
duplicate domain atomically.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from touchline.consent.policy import OFF, ConsentPolicy, policy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class InvalidDomain(ValueError):
    """Not a hostname we can register."""


class SiteExists(ValueError):
    """The domain is already registered."""


class UnknownSite(ValueError):
    """No site with that id."""


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    domain: str
    created_at: str
    # IANA zone of the site's reporting days (seed 001's `timezone`): date ranges and time
    # buckets of the query API are local days of this zone.
    timezone: str = "UTC"
    # The organisation that owns it; "" for a site registered before organisations existed
    # (it keeps working, and the operator can move it into one: docs/accounts.md).
    org_id: str = ""
    # Ignore the tag's visitor id and count with the daily hash only (docs/tag.md).
    cookieless: bool = False
    # What the collector and the tracking API store under each call's consent (docs/consent.md).
    consent: ConsentPolicy = OFF


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


def is_hostname(domain: str) -> bool:
    """Whether `domain` is a hostname in the normalised form sites are registered under (no
    lookup is worth making for anything else)."""
    return _HOSTNAME.match(domain) is not None


class SiteStore:
    """Sites in the config table, through a low-level DynamoDB client (cheap to import)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, domain: str, org_id: str = "") -> Site:
        domain = normalize_domain(domain)
        site = Site(
            secrets.token_hex(8), domain, datetime.now(UTC).isoformat(timespec="seconds"), org_id=org_id
        )
        owner: list[Any] = [self._org_link(org_id, site)] if org_id else []
        try:
            self._client.transact_write_items(
                TransactItems=[
                    *owner,
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
                                **({"org_id": {"S": org_id}} if org_id else {}),
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except self._client.exceptions.TransactionCanceledException as exc:
            raise SiteExists(f"{domain} is already registered") from exc
        return site

    def _org_link(self, org_id: str, site: Site) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "pk": {"S": f"ORG#{org_id}"},
                    "sk": {"S": f"SITE#{site.site_id}"},
                    "site_id": {"S": site.site_id},
                    "domain": {"S": site.domain},
                },
            }
        }

    def by_domain(self, domain: str) -> Site | None:
        pointer = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": "SITE"}}
        ).get("Item")
        if not pointer:
            return None
        return self.by_id(pointer["site_id"]["S"])

    def by_domains(self, domains: Iterable[str]) -> dict[str, Site | None]:
        """Many domains in two round trips (BatchGetItem of their pointers, then of their sites),
        whatever their number: one collector request naming ten new domains waits for 2 reads,
        not 20 one after the other. Every domain asked is in the answer (None: not registered)."""
        wanted = list(dict.fromkeys(d for d in domains if is_hostname(d)))
        found: dict[str, Site | None] = {d: None for d in domains}
        if not wanted:
            return found
        pointers = self._batch_get([f"DOMAIN#{d}" for d in wanted])
        site_ids = {d: pointers[f"DOMAIN#{d}"]["site_id"]["S"] for d in wanted if f"DOMAIN#{d}" in pointers}
        sites = self._batch_get([f"SITE#{s}" for s in dict.fromkeys(site_ids.values())])
        for domain, site_id in site_ids.items():
            item = sites.get(f"SITE#{site_id}")
            found[domain] = _site_from_item(item) if item else None
        return found

    def _batch_get(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Items by `pk` (sort key `SITE`), retrying what DynamoDB leaves unprocessed."""
        items: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):  # BatchGetItem's limit
            request: Any = {
                self._table: {
                    "Keys": [{"pk": {"S": k}, "sk": {"S": "SITE"}} for k in keys[start : start + 100]]
                }
            }
            for _attempt in range(5):
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    items[item["pk"]["S"]] = item
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
        return items

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

    def many(self, site_ids: Iterable[str]) -> list[Site]:
        """Several sites with BatchGetItem (100 keys a call); unknown ids are left out."""
        wanted = sorted(set(site_ids))
        found: list[Site] = []
        for start in range(0, len(wanted), 100):
            keys: Any = [{"pk": {"S": f"SITE#{i}"}, "sk": {"S": "SITE"}} for i in wanted[start : start + 100]]
            request: Any = {self._table: {"Keys": keys}}
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                found.extend(_site_from_item(item) for item in answer["Responses"].get(self._table, []))
                request = answer.get("UnprocessedKeys") or None
        return found

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

    def move(self, site_id: str, org_id: str) -> Site:
        """Put a site into an organisation (out of the one that owned it, if any)."""
        site = self.by_id(site_id)
        if site is None:
            raise UnknownSite(f"no site {site_id!r}")
        items: list[Any] = [self._org_link(org_id, site)]
        if site.org_id and site.org_id != org_id:
            items.append(self._unlink(site.org_id, site_id))
        items.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SITE"}},
                    "UpdateExpression": "SET org_id = :o",
                    "ExpressionAttributeValues": {":o": {"S": org_id}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
        self._client.transact_write_items(TransactItems=items)
        return replace(site, org_id=org_id)

    def change_domain(self, site_id: str, new_domain: str) -> Site:
        """Point the site at another domain; the old one stops being accepted (after caches expire)."""
        domain = normalize_domain(new_domain)
        site = self.by_id(site_id)
        if site is None:
            raise UnknownSite(f"no site {site_id!r}")
        if domain == site.domain:
            return site
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": "SITE"}, "site_id": {"S": site_id}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": f"DOMAIN#{site.domain}"}, "sk": {"S": "SITE"}},
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SITE"}},
                    "UpdateExpression": "SET #d = :d",
                    "ExpressionAttributeNames": {"#d": "domain"},
                    "ExpressionAttributeValues": {":d": {"S": domain}},
                }
            },
        ]
        if site.org_id:
            moved = replace(site, domain=domain)
            items.append(self._org_link(site.org_id, moved))
        try:
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as exc:
            raise SiteExists(f"{domain} is already registered") from exc
        return replace(site, domain=domain)

    def set_cookieless(self, site_id: str, cookieless: bool) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SITE"}},
            UpdateExpression="SET cookieless = :c",
            ExpressionAttributeValues={":c": {"BOOL": cookieless}},
            ConditionExpression="attribute_exists(pk)",
        )

    def set_consent(self, site_id: str, consent: ConsentPolicy) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SITE"}},
            UpdateExpression="SET consent_mode = :m, consent_analytics = :a, consent_advertising = :d",
            ExpressionAttributeValues={
                ":m": {"S": consent.mode},
                ":a": {"L": [{"S": name} for name in consent.analytics]},
                ":d": {"L": [{"S": name} for name in consent.advertising]},
            },
            ConditionExpression="attribute_exists(pk)",
        )

    def delete(self, site_id: str) -> Site:
        """Remove the site and its domain pointer: hits for it are refused once caches expire.
        Its settings, goals and integrations go too; warehouse rows age out with the retention."""
        site = self.by_id(site_id)
        if site is None:
            raise UnknownSite(f"no site {site_id!r}")
        items: list[Any] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": f"DOMAIN#{site.domain}"}, "sk": {"S": "SITE"}},
                }
            },
        ]
        if site.org_id:
            items.append(self._unlink(site.org_id, site_id))
        self._client.transact_write_items(TransactItems=items)
        # Everything under SITE#<id> (the site, settings, goals, integrations).
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SITE#{site_id}"}},
            ProjectionExpression="pk, sk",
        ):
            for item in page.get("Items", []):
                self._client.delete_item(TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]})
        return site

    def _unlink(self, org_id: str, site_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": f"SITE#{site_id}"}},
            }
        }


def _site_from_item(item: dict[str, Any]) -> Site:
    return Site(
        item["site_id"]["S"],
        item["domain"]["S"],
        item.get("created_at", {}).get("S", ""),
        item.get("timezone", {}).get("S", "UTC"),
        item.get("org_id", {}).get("S", ""),
        bool(item.get("cookieless", {}).get("BOOL", False)),
        _consent_from_item(item),
    )


def _consent_from_item(item: dict[str, Any]) -> ConsentPolicy:
    if "consent_mode" not in item:
        return OFF
    names = {
        purpose: [n["S"] for n in item[f"consent_{purpose}"]["L"]]
        for purpose in ("analytics", "advertising")
        if f"consent_{purpose}" in item
    }
    return policy(item["consent_mode"]["S"], names)
