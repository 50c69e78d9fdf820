"""Usage (seed 001's `event_limit` / `events_used`): events stored per organisation per month.

Counted from the warehouse (`events FINAL`, so a redelivered hit counts once), per UTC calendar
month. An organisation may have a monthly limit; going over it only warns — the hourly check
stores the figure, logs, publishes `OrganisationsOverEventLimit` (alarmed in the template) and
the API answers with an `X-Touchline-Usage-Warning` header. No hit is ever refused for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from touchline.warehouse.sql import Sql

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WARNING_HEADER = "X-Touchline-Usage-Warning"


@dataclass(frozen=True, slots=True)
class Usage:
    org_id: str
    month: str  # YYYY-MM
    events: int
    limit: int | None
    by_site: dict[str, int] = field(default_factory=dict)

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.events > self.limit

    def warning(self) -> str | None:
        if not self.over_limit:
            return None
        return f"{self.events} events in {self.month}, over the limit of {self.limit}; nothing is dropped"

    def body(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "month": self.month,
            "events": self.events,
            "limit": self.limit,
            "over_limit": self.over_limit,
            "share_of_limit": round(self.events / self.limit, 4) if self.limit else None,
            "by_site": self.by_site,
        }


def parse_month(text: str | None, today: date | None = None) -> date:
    """`2026-11` → 2026-11-01; None → this month (UTC)."""
    if not text:
        today = today or datetime.now(UTC).date()
        return today.replace(day=1)
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"month must look like 2026-11, got {text!r}") from None


def _next_month(start: date) -> date:
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def count_events(sql: Sql, site_ids: list[str], month: date) -> dict[str, int]:
    if not site_ids:
        return {}
    rows = sql.rows(
        "SELECT site_id, count() FROM events FINAL WHERE site_id IN {sites:Array(String)} "
        "AND timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')} "
        "GROUP BY site_id",
        {
            "sites": sorted(site_ids),
            "start": f"{month:%Y-%m-%d} 00:00:00",
            "end": f"{_next_month(month):%Y-%m-%d} 00:00:00",
        },
    )
    counts = {site: 0 for site in site_ids}
    counts.update({str(site): int(n) for site, n in rows})
    return counts


def usage_of(sql: Sql, org_id: str, site_ids: list[str], limit: int | None, month: date) -> Usage:
    by_site = count_events(sql, site_ids, month)
    return Usage(org_id, f"{month:%Y-%m}", sum(by_site.values()), limit, by_site)


class UsageRecords:
    """The last checked figure per organisation and month (`ORG#<org>` / `USAGE#<YYYY-MM>`)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def save(self, usage: Usage) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"ORG#{usage.org_id}"},
                "sk": {"S": f"USAGE#{usage.month}"},
                "events": {"N": str(usage.events)},
                "over_limit": {"BOOL": usage.over_limit},
                "checked_at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
                **({"event_limit": {"N": str(usage.limit)}} if usage.limit is not None else {}),
            },
        )

    def last(self, org_id: str, month: str) -> Usage | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": f"USAGE#{month}"}}
        ).get("Item")
        if not item:
            return None
        limit = item.get("event_limit", {}).get("N")
        return Usage(org_id, month, int(item["events"]["N"]), int(limit) if limit is not None else None)
