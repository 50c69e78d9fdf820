"""Klaviyo's Reporting API → campaign, flow, form and segment statistics (seed 003's tables).

The reporting endpoints match the numbers in Klaviyo's UI but are tightly rate limited (1/s
burst, 2/min steady, 225/day each), so these streams refresh at most once per `min_interval`
(an hour by default: 24 calls a day per endpoint) and re-read a trailing `lookback` window each
time, because opens, clicks and conversions keep arriving for days after a send. The first run
reads `backfill` back (series reports allow 60 days at a daily interval, values reports a year);
`--since` reaches further, one window per request.

* campaigns: Query Campaign Values over the window, grouped by campaign, message and channel; a
  campaign's row is dated by its send day (Klaviyo reports campaigns by send date), names, send
  times and tags from Get Campaigns (email and SMS, `updated_at` since the window start,
  `include=tags`: the tag names are the page's `included` tags that the campaign's
  `relationships.tags` lists);
* flows: Query Flow Series, daily, grouped by flow, message (names included) and channel;
* forms: Query Form Series, daily, by form; names from Get Forms;
* segments: Query Segment Series, daily, by segment; names from Get Segments.

Rates come back as fractions in [0, 1] and are stored as percentages.
https://developers.klaviyo.com/en/reference/reporting_api_overview
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from touchline.envelope import Row
from touchline.syncs.http import ApiError
from touchline.syncs.providers.common import millis, parse_time
from touchline.syncs.providers.klaviyo.api import KlaviyoApi
from touchline.syncs.rows import (
    CampaignStatisticsRow,
    FlowStatisticsRow,
    FormStatisticsRow,
    SegmentStatisticsRow,
    pct,
)
from touchline.syncs.state import Checkpoint, StreamState
from touchline.syncs.streams import Batch

COUNTS = (
    "recipients",
    "delivered",
    "bounced",
    "failed",
    "opens",
    "opens_unique",
    "clicks",
    "clicks_unique",
    "conversions",
    "conversion_uniques",
    "conversion_value",
    "unsubscribes",
    "spam_complaints",
)
RATES = ("open_rate", "click_rate", "conversion_rate", "unsubscribe_rate", "bounce_rate", "delivery_rate")
MESSAGE_STATISTICS = [*COUNTS, *RATES]
FORM_COUNTS = (
    "viewed_form",
    "viewed_form_uniques",
    "submits",
    "qualified_form",
    "qualified_form_uniques",
    "closed_form",
    "closed_form_uniques",
)
FORM_STATISTICS = [*FORM_COUNTS, "submit_rate"]
SEGMENT_STATISTICS = ["total_members", "members_added", "members_removed", "net_members_changed"]
CHANNELS = ("email", "sms")
SERIES_MAX_DAYS = 60  # daily series: "the timeframe cannot be longer than 60 days"
VALUES_MAX_DAYS = 365  # "Max length: 1 year"

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def _message_statistics(values: dict[str, Any]) -> dict[str, float]:
    fields = {name: max(0.0, _number(values.get(name))) for name in COUNTS}
    fields["conversion_value"] = _number(values.get("conversion_value"))
    fields.update({f"{name}_pct": max(0.0, pct(_number(values.get(name)))) for name in RATES})
    return fields


def report_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class _WindowedStream:
    """Re-reads [watermark - lookback, now] in windows of at most `max_days`; checkpoints each."""

    site_id: str
    api: KlaviyoApi
    min_interval: timedelta = timedelta(hours=1)
    lookback: timedelta = timedelta(days=30)
    backfill: timedelta = timedelta(days=SERIES_MAX_DAYS)
    max_days: int = SERIES_MAX_DAYS
    clock: Clock = _now
    name: str = ""

    def batches(self, state: StreamState) -> Iterator[Batch]:
        now = self.clock()
        start = now - self.backfill if state.watermark is None else state.watermark - self.lookback
        refreshed = now
        self.prepare(start, now)
        for window_start, end in windows(start, now, timedelta(days=self.max_days)):
            batch = Batch(reached=end)
            for table, row in self.window(window_start, end, refreshed):
                batch.add(table, row)
            batch.records = len(batch.rows)
            last = end >= now
            batch.checkpoint = Checkpoint(watermark=end, refreshed=last)
            yield batch

    def prepare(self, start: datetime, end: datetime) -> None:
        """Look up names once per run."""

    def window(self, start: datetime, end: datetime, refreshed: datetime) -> Iterator[tuple[str, Row]]:
        raise NotImplementedError


def windows(start: datetime, end: datetime, longest: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] in consecutive windows no longer than `longest`, none of them empty: each
    report request spends the endpoint's daily quota (225), so a zero-length one is waste."""
    while start < end:
        stop = min(start + longest, end)
        yield start, stop
        start = stop


def _names(api: KlaviyoApi, path: str, params: dict[str, Any] | None = None) -> dict[str, str]:
    return {
        str(item["id"]): str((item.get("attributes") or {}).get("name") or "")
        for item in api.resources(path, params)
    }


def _series_days(attributes: dict[str, Any]) -> list[date]:
    # Series dates are midnights in the account's timezone: the date as written is the day.
    return [datetime.fromisoformat(text).date() for text in attributes.get("date_times") or []]


def _at(values: dict[str, Any], name: str, index: int) -> Any:
    series = values.get(name)
    return series[index] if isinstance(series, list) and index < len(series) else None


# Get Campaigns / Get Campaign: the attributes read, and the tags as `included` resources.
_FIELDS = {"fields[campaign]": "name,send_time,updated_at", "include": "tags", "fields[tag]": "name"}


@dataclass(frozen=True)
class _Campaign:
    name: str
    sent: date | None
    tags: list[str]


def _tag_names(document: dict[str, Any]) -> dict[str, str]:
    """Tag id → name, from a JSON:API document's `included` array."""
    return {
        str(item["id"]): str((item.get("attributes") or {}).get("name") or "")
        for item in document.get("included") or []
        if item.get("type") == "tag" and item.get("id") is not None
    }


@dataclass
class CampaignStatisticsStream(_WindowedStream):
    conversion_metric_id: str = ""
    backfill: timedelta = timedelta(days=VALUES_MAX_DAYS)
    max_days: int = VALUES_MAX_DAYS
    name: str = "campaign_statistics"
    _campaigns: dict[str, _Campaign] = field(default_factory=dict)

    def prepare(self, start: datetime, end: datetime) -> None:
        self._campaigns = {}
        for channel in CHANNELS:
            params = {
                "filter": f"and(equals(messages.channel,'{channel}'),"
                f"greater-or-equal(updated_at,{report_time(start)}))",
                **_FIELDS,
            }
            for page in self.api.pages("/api/campaigns/", params):
                tags = _tag_names(page)
                for campaign in page.get("data") or []:
                    self._remember(campaign, tags)

    def _remember(self, campaign: dict[str, Any], tags: dict[str, str]) -> _Campaign:
        attributes = campaign.get("attributes") or {}
        sent = parse_time(attributes.get("send_time"))
        related = ((campaign.get("relationships") or {}).get("tags") or {}).get("data") or []
        names = sorted({tags[str(t.get("id"))] for t in related if str(t.get("id")) in tags})
        entry = _Campaign(str(attributes.get("name") or ""), sent.date() if sent else None, names)
        self._campaigns[str(campaign["id"])] = entry
        return entry

    def _campaign(self, campaign_id: str) -> _Campaign:
        if campaign_id not in self._campaigns:
            try:
                found = self.api.http.get(f"/api/campaigns/{campaign_id}/", dict(_FIELDS)).json() or {}
                self._remember(found.get("data") or {"id": campaign_id}, _tag_names(found))
            except ApiError as exc:
                if exc.status != 404:
                    raise
                self._campaigns[campaign_id] = _Campaign("", None, [])
        return self._campaigns[campaign_id]

    def window(self, start: datetime, end: datetime, refreshed: datetime) -> Iterator[tuple[str, Row]]:
        attributes = {
            "statistics": MESSAGE_STATISTICS,
            "timeframe": {"start": report_time(start), "end": report_time(end)},
            "conversion_metric_id": self.conversion_metric_id,
            "group_by": ["campaign_id", "campaign_message_id", "campaign_message_name", "send_channel"],
        }
        for page in self.api.report("/api/campaign-values-reports/", "campaign-values-report", attributes):
            for result in page.get("results") or []:
                groupings = result.get("groupings") or {}
                campaign_id = str(groupings.get("campaign_id") or "")
                if not campaign_id:
                    continue
                campaign = self._campaign(campaign_id)
                yield (
                    "campaign_statistics",
                    CampaignStatisticsRow(
                        site_id=self.site_id,
                        campaign_id=campaign_id,
                        campaign_message_id=str(groupings.get("campaign_message_id") or campaign_id),
                        date=campaign.sent or start.date(),
                        campaign_name=campaign.name[:1024],
                        tags=[t[:256] for t in campaign.tags[:64]],
                        message_name=str(groupings.get("campaign_message_name") or "")[:1024],
                        send_channel=str(groupings.get("send_channel") or "")[:32],
                        synced_at=refreshed,
                        version=millis(refreshed),
                        **_message_statistics(result.get("statistics") or {}),
                    ),
                )


@dataclass
class FlowStatisticsStream(_WindowedStream):
    conversion_metric_id: str = ""
    name: str = "flow_statistics"

    def window(self, start: datetime, end: datetime, refreshed: datetime) -> Iterator[tuple[str, Row]]:
        attributes = {
            "statistics": MESSAGE_STATISTICS,
            "timeframe": {"start": report_time(start), "end": report_time(end)},
            "interval": "daily",
            "conversion_metric_id": self.conversion_metric_id,
            "group_by": ["flow_id", "flow_message_id", "flow_name", "flow_message_name", "send_channel"],
        }
        for page in self.api.report("/api/flow-series-reports/", "flow-series-report", attributes):
            days = _series_days(page)
            for result in page.get("results") or []:
                groupings = result.get("groupings") or {}
                values = result.get("statistics") or {}
                for index, day in enumerate(days):
                    yield (
                        "flow_statistics",
                        FlowStatisticsRow(
                            site_id=self.site_id,
                            flow_id=str(groupings.get("flow_id") or ""),
                            flow_message_id=str(groupings.get("flow_message_id") or ""),
                            date=day,
                            flow_name=str(groupings.get("flow_name") or "")[:1024],
                            flow_message_name=str(groupings.get("flow_message_name") or "")[:1024],
                            send_channel=str(groupings.get("send_channel") or "")[:32],
                            synced_at=refreshed,
                            version=millis(refreshed),
                            **_message_statistics({k: _at(values, k, index) for k in MESSAGE_STATISTICS}),
                        ),
                    )


@dataclass
class FormStatisticsStream(_WindowedStream):
    name: str = "form_statistics"
    _forms: dict[str, str] = field(default_factory=dict)

    def prepare(self, start: datetime, end: datetime) -> None:
        self._forms = _names(self.api, "/api/forms/", {"fields[form]": "name"})

    def window(self, start: datetime, end: datetime, refreshed: datetime) -> Iterator[tuple[str, Row]]:
        attributes = {
            "statistics": FORM_STATISTICS,
            "timeframe": {"start": report_time(start), "end": report_time(end)},
            "interval": "daily",
            "group_by": ["form_id"],
        }
        for page in self.api.report("/api/form-series-reports/", "form-series-report", attributes):
            days = _series_days(page)
            for result in page.get("results") or []:
                form_id = str((result.get("groupings") or {}).get("form_id") or "")
                values = result.get("statistics") or {}
                for index, day in enumerate(days):
                    yield (
                        "form_statistics",
                        FormStatisticsRow(
                            site_id=self.site_id,
                            form_id=form_id,
                            date=day,
                            form_name=self._forms.get(form_id, "")[:1024],
                            submit_rate_pct=max(0.0, pct(_number(_at(values, "submit_rate", index)))),
                            synced_at=refreshed,
                            version=millis(refreshed),
                            **{k: max(0.0, _number(_at(values, k, index))) for k in FORM_COUNTS},
                        ),
                    )


@dataclass
class SegmentStatisticsStream(_WindowedStream):
    name: str = "segment_statistics"
    _segments: dict[str, str] = field(default_factory=dict)

    def prepare(self, start: datetime, end: datetime) -> None:
        self._segments = _names(self.api, "/api/segments/", {"fields[segment]": "name"})

    def window(self, start: datetime, end: datetime, refreshed: datetime) -> Iterator[tuple[str, Row]]:
        # No `group_by`: Query Segment Series has none (its results are per segment already);
        # sending one is a 400.
        attributes = {
            "statistics": SEGMENT_STATISTICS,
            "timeframe": {"start": report_time(start), "end": report_time(end)},
            "interval": "daily",
        }
        for page in self.api.report("/api/segment-series-reports/", "segment-series-report", attributes):
            days = _series_days(page)
            for result in page.get("results") or []:
                segment_id = str((result.get("groupings") or {}).get("segment_id") or "")
                values = result.get("statistics") or {}
                for index, day in enumerate(days):
                    yield (
                        "segment_statistics",
                        SegmentStatisticsRow(
                            site_id=self.site_id,
                            segment_id=segment_id,
                            date=day,
                            segment_name=self._segments.get(segment_id, "")[:1024],
                            total_members=int(_number(_at(values, "total_members", index))),
                            new_members=int(_number(_at(values, "members_added", index))),
                            removed_members=int(_number(_at(values, "members_removed", index))),
                            daily_change=int(_number(_at(values, "net_members_changed", index))),
                            synced_at=refreshed,
                            version=millis(refreshed),
                        ),
                    )
