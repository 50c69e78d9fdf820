"""Wires a scheduled aggregation: every site (or one), each with its own settings and watermark.

Per site: resolve identities (identity_links → identity_map), then sessions, attribution and
rollups (touchline.aggregate.run); then the commerce jobs that are due (touchline.commerce).

Runs sites one after another and stops starting new ones when the Lambda is about to time out;
the next scheduled run picks up the rest (each site's watermark only moves when its run ends).
With `TOUCHLINE_AGGREGATION_GROUPS` > 1 the schedule only queues one run per site group (one per
ClickHouse shard, touchline.aggregate.groups) and each queued run aggregates its group's sites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from touchline.aggregate.groups import Schedule, fan_out, group_of, in_group
from touchline.aggregate.run import Aggregator, RunReport
from touchline.commerce.run import CommerceReport
from touchline.commerce.service import commerce_now, run_commerce
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.sites import SiteStore
from touchline.config.watermarks import DynamoWatermarks
from touchline.identity.resolve import resolve
from touchline.warehouse.sql import ClientSql

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

# Leave this much of the Lambda's time unused: a site's run must not be cut off half-way.
RESERVE_MS = 120_000


@dataclass
class ScheduledResult:
    runs: list[RunReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    commerce: list[CommerceReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": [r.as_dict() for r in self.runs],
            "skipped": self.skipped,
            "commerce": [c.as_dict() for c in self.commerce],
        }


def run_sites(
    client: Client,
    dynamodb: Any,
    table: str,
    site_id: str | None = None,
    full: bool = False,
    remaining_ms: Callable[[], int] = lambda: 10**9,
    refit: bool = False,
    group: tuple[int, int] | None = None,
) -> ScheduledResult:
    """Identities and the aggregation go through the `Sql` protocol (bound parameters); the
    commerce jobs take the client itself. `group` (k, n): only the sites of group k of n."""
    sql = ClientSql(client)
    sites = SiteStore(dynamodb, table)
    settings = AttributionSettingsStore(dynamodb, table)
    aggregator = Aggregator(sql, DynamoWatermarks(dynamodb, table))
    site_ids = [site_id] if site_id else [s.site_id for s in sites.list()]
    if group is not None:
        site_ids = in_group(sql, site_ids, *group)
    result = ScheduledResult()
    for current in site_ids:
        if remaining_ms() < RESERVE_MS:
            result.skipped.append(current)
            continue
        # Identities first: who is who decides whose sessions a conversion's touchpoints are.
        resolve(sql, current)
        result.runs.append(aggregator.run(current, settings.get(current), full=full, refit=refit))
    # Commerce reads the identities, sessions and credits just written; each job keeps its cadence.
    result.commerce, late = run_commerce(
        client, dynamodb, table, [r.site_id for r in result.runs], full=full, remaining_ms=remaining_ms
    )
    result.skipped.extend(s for s in late if s not in result.skipped)
    return result


def commerce_only(
    client: Client,
    dynamodb: Any,
    table: str,
    site_id: str | None,
    full: bool,
    group: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """`{"job": "commerce"}` (`touchline commerce run`): identities, then every commerce job now;
    with `group` (k, n), for the sites of group k only (its run from AggregationQueue)."""
    if group is None:
        return commerce_now(client, dynamodb, table, site_id, full=full)
    ids = [site_id] if site_id else [s.site_id for s in SiteStore(dynamodb, table).list()]
    done: dict[str, Any] = {"commerce": [], "skipped": []}
    for current in in_group(ClientSql(client), ids, *group):
        one = commerce_now(client, dynamodb, table, current, full=full)
        done["commerce"] += one["commerce"]
        done["skipped"] += one["skipped"]
    return done


def scheduled(
    site_id: str | None,
    full: bool,
    remaining_ms: Callable[[], int],
    refit: bool = False,
    group: tuple[int, int] | None = None,
) -> ScheduledResult:
    """`run_sites` wired from the function's settings: its ClickHouse and config table."""
    return run_sites(
        *_wiring(), site_id=site_id, full=full, remaining_ms=remaining_ms, refit=refit, group=group
    )


def aggregation_groups() -> int:
    """How many site groups the schedule fans out to (1: it aggregates every site itself)."""
    from touchline.settings import AggregateSettings

    return AggregateSettings.from_env().aggregation_groups


def queue_groups(request: Schedule, now: datetime) -> list[int]:
    """The fan-out, wired: every group's run queued, or a one-site request's on its group."""
    from touchline.aws import clients
    from touchline.aws.sqs import SqsFifoQueue
    from touchline.settings import AggregateSettings

    settings = AggregateSettings.from_env()
    if not settings.aggregation_queue_url:
        raise RuntimeError("TOUCHLINE_AGGREGATION_QUEUE_URL is not set: nowhere to queue the groups")
    groups = settings.aggregation_groups
    group = None
    if request.site:
        client, _, _ = _wiring()
        group = group_of(ClientSql(client), [request.site], groups)[request.site]
    queue = SqsFifoQueue(clients.sqs(), settings.aggregation_queue_url)
    return fan_out(queue, request, groups, now, group)


def scheduled_commerce(
    site_id: str | None, full: bool, group: tuple[int, int] | None = None
) -> dict[str, Any]:
    """`commerce_only` wired from the function's settings."""
    return commerce_only(*_wiring(), site_id, full, group)


def _wiring() -> tuple[Client, Any, str]:
    from touchline.aws import clients
    from touchline.load.service import warehouse_client
    from touchline.settings import AggregateSettings

    return warehouse_client(), clients.dynamodb(), AggregateSettings.from_env().config_table
