"""The dispatcher: every minute (and on `touchline webhooks dispatch`), for each site with
subscribers, read each source since its watermark and queue one delivery per (event,
subscriber that wants it); the watermark moves only once every message is queued, so a run
that fails half-way is read again (same event ids: receivers deduplicate).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from touchline.config.watermarks import Watermark, WatermarkStore
from touchline.envelope import unpack
from touchline.ingest.queue import EventQueue
from touchline.outgoing_webhooks.events import OutgoingEvent
from touchline.outgoing_webhooks.sources import Source
from touchline.outgoing_webhooks.subscriptions import SubscriptionStore
from touchline.warehouse.sql import Sql

JOB_PREFIX = "webhooks:"


class DeliveryMessage(BaseModel):
    """One message on the outgoing webhooks queue: an event for one subscriber, one attempt."""

    model_config = ConfigDict(extra="forbid")

    v: int = 1
    webhook_id: str = Field(max_length=64)
    site_id: str = Field(max_length=64)
    attempt: int = Field(1, ge=1)
    event: OutgoingEvent


@dataclass
class DispatchReport:
    sites: int = 0
    events: dict[str, int] = field(default_factory=dict)
    queued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"sites": self.sites, "events": self.events, "queued": self.queued}


class Dispatcher:
    def __init__(
        self,
        sql: Sql,
        subscriptions: SubscriptionStore,
        watermarks: WatermarkStore,
        queue: EventQueue,
        sources: Sequence[Source],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sql = sql
        self._subscriptions = subscriptions
        self._watermarks = watermarks
        self._queue = queue
        self._sources = sources
        self._clock = clock

    def run(self, site_id: str | None = None) -> DispatchReport:
        report = DispatchReport()
        for site, created_ms in sorted(self._subscriptions.sites().items()):
            if site_id is not None and site != site_id:
                continue
            report.sites += 1
            self._site(site, created_ms, report)
        return report

    def _site(self, site_id: str, created_ms: int, report: DispatchReport) -> None:
        subscriptions = [s for s in self._subscriptions.list(site_id) if s.active]
        now_ms = int(self._clock() * 1000)
        for source in self._sources:
            job = JOB_PREFIX + source.name
            wanted = [s for s in subscriptions if s.wants(source.event_type)]
            mark = self._watermarks.get(site_id, job)
            if not wanted and getattr(source, "stateful", False):
                # Nobody listens: forget the position, so the next subscriber starts afresh
                # (from the credits as they are then, not from changes nobody was told of).
                if mark is not None and mark.position_ms:
                    self._watermarks.put(site_id, job, Watermark(0, 0))
                continue
            until = source.position(self._sql, site_id, now_ms)
            if mark is None or not mark.position_ms:
                since = source.start(self._sql, site_id, created_ms, until)
            else:
                since = mark.position_ms
            if until <= since:
                if mark is None or not mark.position_ms:
                    self._watermarks.put(site_id, job, Watermark(since, 0))
                continue
            events = source.read(self._sql, site_id, since, until) if wanted else []
            if events:
                self._queue.send(
                    [
                        DeliveryMessage(
                            webhook_id=s.webhook_id, site_id=site_id, event=event
                        ).model_dump_json()
                        for event in events
                        for s in wanted
                    ]
                )
                report.events[source.event_type] = report.events.get(source.event_type, 0) + len(events)
                report.queued += len(events) * len(wanted)
            source.sent(self._sql, site_id, events, until)
            self._watermarks.put(site_id, job, Watermark(until, 0))


def delivery_messages(body: str) -> list[DeliveryMessage]:
    """The deliveries of one queue message: one, or several one per line if it was packed."""
    return [DeliveryMessage.model_validate_json(line) for line in unpack(body)]


def queued_event(event: OutgoingEvent, webhook_id: str, site_id: str) -> str:
    """One first attempt of `event` for one subscriber (the test event's way onto the queue)."""
    return DeliveryMessage(webhook_id=webhook_id, site_id=site_id, event=event).model_dump_json()
