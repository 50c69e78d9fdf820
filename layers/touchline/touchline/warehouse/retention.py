"""How long each table family is kept (seed 001's data retention), as ClickHouse TTLs.

Three families expire: raw events (2 years by default, 1 to 5 years as seed 001 says), sessions
(as long as the events they are built from, unless set longer) and daily metrics (5 years).
Everything else is kept until someone deletes it: orders, refunds and their attribution credits
(revenue history must stay right to the cent), identity, products and the commerce profiles that
are rebuilt from orders. `audit_log` keeps its own fixed 400 days (docs/accounts.md).

A longer-lived family must never be rebuilt from a shorter-lived one, so the settings are
ordered: sessions ≥ events, metrics ≥ sessions. The aggregation reads the events TTL back
(`kept_days`) and never rewrites what can no longer be recomputed (touchline.aggregate.run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from touchline.warehouse.cluster import LOCAL_SUFFIX

if TYPE_CHECKING:  # the settings import this module; the collector never loads the client
    from clickhouse_connect.driver.client import Client

    from touchline.warehouse.cluster import ClusterTarget

MIN_DAYS, MAX_DAYS = 1, 3650
DEFAULT_EVENTS_DAYS = 730
DEFAULT_METRICS_DAYS = 1825

# family -> {table: the time its rows age from}; a TTL is `that + toIntervalDay(days)`.
FAMILIES: dict[str, dict[str, str]] = {
    "events": {
        "events": "toDateTime(timestamp)",
        "customer_events": "toDateTime(occurred_at)",
        "devices": "toDateTime(last_seen)",
        "video_events": "toDateTime(at)",
        "object_events": "toDateTime(at)",
        "consent_events": "toDateTime(at)",
        "cart_events": "toDateTime(at)",
        "wishlist_events": "toDateTime(at)",
    },
    "sessions": {
        "sessions": "toDateTime(session_start)",
        "journeys": "toDateTime(ended_at)",
    },
    "metrics": {
        "daily_metrics": "date",
        "visits_by_source_daily": "date",
        "orders_by_source_daily": "date",
        "campaign_statistics": "date",
        "flow_statistics": "date",
        "form_statistics": "date",
        "segment_statistics": "date",
        "campaign_daily_aggregates": "date",
        "account_metrics_daily": "date",
    },
}

_TTL_DAYS = re.compile(r"\bTTL\b.*?toIntervalDay\((\d+)\)", re.DOTALL)


class RetentionError(ValueError):
    """Retention settings that would lose data or contradict each other."""


@dataclass(frozen=True)
class Retention:
    """Days kept per family; `sessions_days`/`metrics_days` of None follow the family below."""

    events_days: int = DEFAULT_EVENTS_DAYS
    sessions_days: int | None = None
    metrics_days: int | None = None

    def __post_init__(self) -> None:
        for name, days in (
            ("events", self.events_days),
            ("sessions", self.sessions_days),
            ("metrics", self.metrics_days),
        ):
            if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
                raise RetentionError(f"{name} retention must be {MIN_DAYS} to {MAX_DAYS} days, not {days}")
        if self.sessions < self.events_days:
            raise RetentionError(
                f"sessions retention ({self.sessions} days) must be at least the events retention "
                f"({self.events_days} days): sessions are rebuilt from events"
            )
        if self.metrics < self.sessions:
            raise RetentionError(
                f"metrics retention ({self.metrics} days) must be at least the sessions retention "
                f"({self.sessions} days): daily metrics are rebuilt from sessions"
            )

    @property
    def sessions(self) -> int:
        return self.sessions_days if self.sessions_days is not None else self.events_days

    @property
    def metrics(self) -> int:
        if self.metrics_days is not None:
            return self.metrics_days
        return max(DEFAULT_METRICS_DAYS, self.sessions)

    def days(self, family: str) -> int:
        return {"events": self.events_days, "sessions": self.sessions, "metrics": self.metrics}[family]

    def ttls(self) -> dict[str, str]:
        """Every expiring table's wanted TTL expression."""
        return {
            table: f"{time_expr} + toIntervalDay({self.days(family)})"
            for family, tables in FAMILIES.items()
            for table, time_expr in tables.items()
        }


def as_retention(retention: Retention | int) -> Retention:
    """An int is the events retention (the historical single setting); the rest follow it."""
    return retention if isinstance(retention, Retention) else Retention(events_days=retention)


def apply_retention(
    client: Client, retention: Retention | int, cluster: ClusterTarget | None = None, *, wait: bool = False
) -> list[str]:
    """Make each expiring table's TTL match `retention`; return the tables changed.

    A part keeps the expiry times computed when it was written: a shorter TTL removes nothing
    already stored and a longer one would still let old parts expire early, until the TTL is
    materialized. So a change is materialized, as a background mutation (`wait` blocks until
    it is done, e.g. in tests); a TTL already as wanted costs one `system.tables` read.
    """
    changed = []
    settings = {"materialize_ttl_after_modify": 1, "mutations_sync": 2 if wait else 0}
    for name, wanted in as_retention(retention).ttls().items():
        table = name if cluster is None else f"{name}{LOCAL_SUFFIX}"
        current = _engine_full(client, table)
        if current is None:
            continue  # a table of a later migration than this database has
        if _TTL_DAYS.search(current) and wanted.replace(" ", "") in current.replace(" ", ""):
            continue
        on_cluster = "" if cluster is None else f" {cluster.on_cluster}"
        client.command(f"ALTER TABLE {table}{on_cluster} MODIFY TTL {wanted}", settings=settings)
        changed.append(name)
    return changed


def kept_days(engine_full: str | None) -> int | None:
    """The days a table keeps rows, from its `engine_full`; None when it has no day TTL."""
    match = _TTL_DAYS.search(engine_full or "")
    return int(match[1]) if match else None


def _engine_full(client: Client, table: str) -> str | None:
    found = client.query(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        parameters={"t": table},
    ).result_rows
    return str(found[0][0]) if found else None
