"""Site groups: the scheduled aggregation split into parallel runs, one per ClickHouse shard.

With `AggregationGroups` N > 1 (docs/performance.md: N = the cluster's shard count under
`--shards-by site_id`), the 15-minute schedule does not aggregate: it queues one message per
group on a FIFO queue (`AggregationQueue`, message group = the group), and each message runs the
sites whose `cityHash64(site_id) % N` is the group. That is the Distributed tables' sharding key
with equal shard weights, so group k holds exactly the sites of shard k and the N runs work on
N shards at once. SQS FIFO hands a message group to one consumer at a time, so a group's next run
waits for its current one (no site is ever aggregated twice at once), while the other groups
carry on; the deduplication id (group + the schedule's 15-minute slot) drops a retried
schedule's second fan-out. The hash is ClickHouse's own, asked for each time, so the grouping
cannot drift from the sharding.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from touchline.warehouse.sql import Sql

SLOT_SECONDS = 900  # the schedule's rate: one fan-out per slot and group


class Schedule(BaseModel):
    """What to run: the aggregation (the schedule, `touchline aggregate run`) or only the
    commerce jobs (`touchline commerce run`), for every site or one."""

    model_config = ConfigDict(extra="ignore")

    job: Literal["aggregate", "commerce"] = "aggregate"
    site: str | None = Field(None, min_length=1, max_length=64)
    full: bool = False
    refit: bool = False

    @field_validator("site", mode="before")
    @classmethod
    def _no_site(cls, value: object) -> object:
        return value or None  # `"site": ""` and null: every site


class GroupRun(Schedule):
    """One group's run: an AggregationQueue message."""

    model_config = ConfigDict(extra="forbid")

    group: int = Field(ge=0)
    groups: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _group_in_range(self) -> GroupRun:
        if self.group >= self.groups:
            raise ValueError(f"group {self.group} is not one of {self.groups} groups")
        return self


class GroupQueue(Protocol):
    def send(self, body: str, group_id: str, deduplication_id: str) -> None:
        """Queue `body` behind the messages of `group_id`; a repeated `deduplication_id`
        within SQS's five minutes is dropped."""
        ...


class ListGroupQueue:
    """`GroupQueue` in memory for tests: (body, group_id, deduplication_id), deduplicated."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []

    def send(self, body: str, group_id: str, deduplication_id: str) -> None:
        if all(m[2] != deduplication_id for m in self.messages):
            self.messages.append((body, group_id, deduplication_id))


def group_of(sql: Sql, site_ids: Sequence[str], groups: int) -> dict[str, int]:
    """Each site's group: `cityHash64(site_id) % groups`, computed by ClickHouse."""
    if not site_ids:
        return {}
    rows = sql.rows(
        "SELECT s, toUInt32(cityHash64(s) % {groups:UInt32}) FROM "
        "(SELECT arrayJoin({sites:Array(String)}) AS s)",
        {"sites": list(site_ids), "groups": groups},
    )
    return {str(site): int(group) for site, group in rows}


def in_group(sql: Sql, site_ids: Sequence[str], group: int, groups: int) -> list[str]:
    """The sites of `site_ids` that belong to `group` of `groups`, in their given order."""
    if groups == 1:
        return list(site_ids)
    mine = group_of(sql, site_ids, groups)
    return [s for s in site_ids if mine[s] == group]


def fan_out(
    queue: GroupQueue, request: Schedule, groups: int, now: datetime, group: int | None = None
) -> list[int]:
    """Queue the run of every group, or of `group` only (a one-site request's), for this slot.
    The schedule's messages are deduplicated per group and slot; a by-hand request (one site,
    full, refit) is a run of its own and never dropped as a duplicate."""
    slot = int(now.timestamp()) // SLOT_SECONDS
    by_hand = request != Schedule()
    chosen = list(range(groups)) if group is None else [group]
    for k in chosen:
        body = GroupRun(
            job=request.job, site=request.site, full=request.full, refit=request.refit, group=k, groups=groups
        )
        dedup = uuid.uuid4().hex if by_hand else f"{k}-{slot}"
        queue.send(body.model_dump_json(), str(k), dedup)
    return chosen
