"""HubSpot CRM v3: contacts (→ integration customers, identity links, people) and, when the
integration is set up with `deals_as_orders`, won deals (→ orders).

Both use the CRM search API: `POST /crm/v3/objects/<type>/search` with a `GTE` filter on the
modified-date property (`lastmodifieddate` for contacts, `hs_lastmodifieddate` for deals), sorted
ascending, 100 a page. Each page is a new query from the last modified date reached (see
`SearchStream.batches`), which keeps paging correct while records change and never runs into the
10,000-results cap of one search query; the search index lags writes by seconds, hence a 10-minute
overlap. Search is rate limited
(a few requests per second per account): 429s are retried with backoff (HubSpot does not always
send `Retry-After`).

A deal is an order while it sits in one of the integration's `deal_stages` (`closedwon` unless
set); a deal that leaves them gets a tombstone, so a reopened deal stops counting. Its customer is
its first associated contact (associations v4 batch read).
https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from touchline.revenue.money import InvalidAmount
from touchline.revenue.rows import OrderRow, time_version
from touchline.syncs.http import HttpClient, SyncError
from touchline.syncs.providers.base import Connection, Provider, Settings, http_client
from touchline.syncs.providers.common import (
    add_customer,
    clean_email,
    currency_code,
    millis,
    money,
    parse_time,
)
from touchline.syncs.state import Checkpoint, StreamState
from touchline.syncs.streams import Batch, Stream, since

DEFAULT_BASE_URL = "https://api.hubapi.com"
PAGE_SIZE = 100
SEARCH_LIMIT = 10_000  # "the search endpoints are limited to 10,000 total results for any given query"
CONTACT_PROPERTIES = [
    "email",
    "firstname",
    "lastname",
    "phone",
    "company",
    "lifecyclestage",
    "hs_lead_status",
    "city",
    "country",
    "createdate",
    "lastmodifieddate",
]
DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "deal_currency_code",
    "dealstage",
    "pipeline",
    "closedate",
    "createdate",
    "hs_lastmodifieddate",
]


class HubSpotCredentials(BaseModel):
    """A private app's access token (`touchline integrations add hubspot`)."""

    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(min_length=1)


RowsOf = Callable[[Batch, list[dict[str, Any]]], None]


@dataclass
class SearchStream:
    name: str
    http: HttpClient
    object_type: str
    modified: str  # the modified-date property the watermark follows
    properties: list[str]
    rows_of: RowsOf
    overlap: timedelta = timedelta(minutes=10)
    min_interval: timedelta = timedelta(0)
    page_size: int = PAGE_SIZE

    def batches(self, state: StreamState) -> Iterator[Batch]:
        """Each page is a fresh query from the highest modified date seen so far.

        Search's `after` is an offset into the current results: a record modified while a client
        pages moves to the end and every later record slides back one place, so offset paging
        would skip one. Re-anchoring every query on the last modified date seen (`GTE`) makes a
        moved record come back later instead; `after` is only used to step over a run of records
        that share one timestamp (more than a page of them).
        """
        floor = since(state, self.overlap)
        high = state.watermark
        after = 0
        while True:
            page = self.http.post(
                f"crm/v3/objects/{self.object_type}/search", self._query(floor, after)
            ).json()
            results = page.get("results") or []
            batch = Batch(records=len(results))
            usable = []
            page_high: datetime | None = None
            for record in results:
                modified = parse_time((record.get("properties") or {}).get(self.modified)) or parse_time(
                    record.get("updatedAt")
                )
                if modified is None:
                    batch.skipped.append(f"{self.object_type} {record.get('id')}: no {self.modified}")
                    continue
                record["_modified"] = modified
                usable.append(record)
                page_high = modified if page_high is None or modified > page_high else page_high
            if page_high is not None and (high is None or page_high > high):
                high = page_high
            self.rows_of(batch, usable)
            batch.checkpoint = Checkpoint(watermark=high)
            batch.reached = high
            yield batch
            if not (page.get("paging") or {}).get("next"):
                return
            if page_high is not None and (floor is None or page_high > floor):
                floor, after = page_high, 0
                continue
            after += len(results)  # a page that is all one timestamp: step over it
            if after + self.page_size > SEARCH_LIMIT:
                raise SyncError(
                    f"hubspot: more than {SEARCH_LIMIT} {self.object_type} share {self.modified} "
                    f"{floor}; the search API cannot page past them"
                )

    def _query(self, floor: datetime | None, after: int) -> dict[str, Any]:
        query: dict[str, Any] = {
            "filterGroups": (
                [
                    {
                        "filters": [
                            {"propertyName": self.modified, "operator": "GTE", "value": str(millis(floor))}
                        ]
                    }
                ]
                if floor is not None
                else []
            ),
            "sorts": [{"propertyName": self.modified, "direction": "ASCENDING"}],
            "properties": self.properties,
            "limit": self.page_size,
        }
        if after:
            query["after"] = str(after)
        return query


@dataclass
class DealOrders:
    """Deals → orders, for the integrations that ask for it."""

    site_id: str
    http: HttpClient
    stages: set[str]
    currency: str
    contacts: dict[str, str] = field(default_factory=dict)

    def __call__(self, batch: Batch, deals: list[dict[str, Any]]) -> None:
        owners = self._contacts([str(d["id"]) for d in deals])
        for deal in deals:
            try:
                batch.add("orders", self._order(deal, owners.get(str(deal["id"]), "")))
            except (ValidationError, InvalidAmount, ValueError) as exc:
                batch.skipped.append(f"deal {deal.get('id')}: {str(exc)[:200]}")

    def _order(self, deal: dict[str, Any], contact: str) -> OrderRow:
        props = deal.get("properties") or {}
        modified: datetime = deal["_modified"]
        won = str(props.get("dealstage") or "") in self.stages
        currency = currency_code(props.get("deal_currency_code"), default=self.currency)
        ordered = parse_time(props.get("closedate")) or parse_time(props.get("createdate")) or modified
        return OrderRow(
            site_id=self.site_id,
            source="hubspot",
            order_id=str(deal["id"]),
            payment_id=str(deal["id"]),
            source_event="hubspot:deal",
            status="paid",
            ordered_at=ordered,
            currency=currency,
            amount=money(props.get("amount"), currency) if won else Decimal(0),
            customer_id_type="hubspot_contact" if contact else "",
            customer_id=contact,
            source_status=str(props.get("dealstage") or "")[:64],
            version=time_version(modified),
            is_deleted=0 if won else 1,  # left the won stages (or never reached them)
        )

    def _contacts(self, deal_ids: list[str]) -> dict[str, str]:
        if not deal_ids:
            return {}
        answer = self.http.post(
            "crm/v4/associations/deals/contacts/batch/read", {"inputs": [{"id": i} for i in deal_ids]}
        ).json()
        found = {}
        for result in answer.get("results") or []:
            targets = sorted(str(t.get("toObjectId")) for t in result.get("to") or [] if t.get("toObjectId"))
            if targets:
                found[str((result.get("from") or {}).get("id"))] = targets[0]
        return found


def contact_rows(site_id: str) -> RowsOf:
    def rows(batch: Batch, contacts: list[dict[str, Any]]) -> None:
        for contact in contacts:
            props = contact.get("properties") or {}
            add_customer(
                batch,
                site_id=site_id,
                source="hubspot",
                id_type="hubspot_contact",
                customer_id=str(contact["id"]),
                email=clean_email(props.get("email")),
                phone=str(props.get("phone") or ""),
                first_name=str(props.get("firstname") or ""),
                last_name=str(props.get("lastname") or ""),
                created_at=parse_time(props.get("createdate")) or parse_time(contact.get("createdAt")),
                updated_at=contact["_modified"],
                traits={
                    "company": props.get("company"),
                    "lifecyclestage": props.get("lifecyclestage"),
                    "lead_status": props.get("hs_lead_status"),
                    "city": props.get("city"),
                    "country": props.get("country"),
                },
            )

    return rows


def open_hubspot(settings: Settings, credentials: Any) -> Connection:
    assert isinstance(credentials, HubSpotCredentials)
    http = http_client(
        "hubspot", settings, DEFAULT_BASE_URL, {"authorization": f"Bearer {credentials.access_token}"}
    )
    site = settings.site_id
    streams: list[Stream] = [
        SearchStream("contacts", http, "contacts", "lastmodifieddate", CONTACT_PROPERTIES, contact_rows(site))
    ]
    options = settings.options
    if options.get("deals_as_orders"):
        stages = set(options.get("deal_stages") or ["closedwon"])
        deals = DealOrders(site, http, stages, str(options.get("currency") or "USD"))
        streams.append(SearchStream("deals", http, "deals", "hs_lastmodifieddate", DEAL_PROPERTIES, deals))
    return Connection(http, streams)


HUBSPOT = Provider("hubspot", HubSpotCredentials, open_hubspot, DEFAULT_BASE_URL)
