"""Wires the commerce jobs for the scheduled AggregatesFunction and `touchline commerce run`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from touchline.commerce.run import CommerceReport, CommerceRunner
from touchline.config.commerce_settings import CommerceSettingsStore
from touchline.config.sites import SiteStore
from touchline.config.watermarks import DynamoWatermarks
from touchline.identity.resolve import resolve
from touchline.warehouse.sql import ClientSql

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

# A site's commerce jobs take seconds (bench: ~20 s at a million orders); leave this much time.
RESERVE_MS = 60_000


def commerce_now(
    client: Client, dynamodb: Any, table: str, site_id: str | None = None, *, full: bool = False
) -> dict[str, Any]:
    """`touchline commerce run`: identities resolved, then every commerce job, due or not."""
    ids = [site_id] if site_id else [s.site_id for s in SiteStore(dynamodb, table).list()]
    for current in ids:
        resolve(ClientSql(client), current)
    reports, skipped = run_commerce(client, dynamodb, table, ids, full=full, due_only=False)
    return {"commerce": [r.as_dict() for r in reports], "skipped": skipped}


def run_commerce(
    client: Client,
    dynamodb: Any,
    table: str,
    site_ids: list[str] | None = None,
    *,
    full: bool = False,
    due_only: bool = True,
    remaining_ms: Callable[[], int] = lambda: 10**9,
) -> tuple[list[CommerceReport], list[str]]:
    """The due jobs (every job with `due_only=False`) of each site; sites left when time runs out
    are returned as skipped (the next run picks them up: nothing moved their watermarks)."""
    ids = site_ids if site_ids is not None else [s.site_id for s in SiteStore(dynamodb, table).list()]
    runner = CommerceRunner(client, DynamoWatermarks(dynamodb, table))
    settings = CommerceSettingsStore(dynamodb, table)
    reports, skipped = [], []
    for site_id in ids:
        if remaining_ms() < RESERVE_MS:
            skipped.append(site_id)
            continue
        reports.append(runner.run(site_id, settings.get(site_id), full=full, due_only=due_only))
    return reports, skipped
