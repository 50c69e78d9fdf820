"""A fake Klaviyo API that behaves as the documentation says (revision 2026-07-15).

* auth: `Authorization: Klaviyo-API-Key <private key>` (401 JSON:API error otherwise), a
  `revision` header on every request (400 without);
* lists are JSON:API documents `{"data": [...], "links": {"self", "next", "prev"}, "included"}`,
  cursor paginated through `links.next` (`page[cursor]`), `page[size]` bounded per endpoint
  (events ≤ 1000, profiles and campaigns ≤ 100), `filter` in Klaviyo's syntax
  (`and(equals(metric_id,"X"),greater-or-equal(datetime,2024-01-01T00:00:00Z))`), `sort`;
* Get Campaigns refuses a request without a `messages.channel` filter; with `include=tags`
  (Get Campaigns and Get Campaign) each campaign's `relationships.tags.data` lists its tag ids and
  the document's `included` array carries each tag once (`fields[tag]` picks its attributes);
* Get Events with `include=attributions`: an event Klaviyo credits to a message lists one
  `attribution` in `relationships.attributions.data`, and `included` carries it with its
  `event`, `attributed-event` and `campaign` + `campaign-message` or `flow` + `flow-message`
  relationships (the AttributionResponseObjectResource of the document);
* reports are POSTs of `{"data": {"type": "...-report", "attributes": {...}}}`; series at a
  daily interval refuse timeframes longer than 60 days, values reports longer than a year;
  campaign and flow reports require `conversion_metric_id`; rates come back as fractions;
* throttling answers 429 with `Retry-After` and a JSON:API `throttled` error;
* every request is checked against Klaviyo's published OpenAPI document (revision 2026-07-15,
  tests/payloads/apis/klaviyo-2026-07-15.json) before it is answered, as the real API would:
  the operation must exist, query parameters must be declared and within their enums and bounds,
  `filter` may use only the operators the document allows for each field (Get Profiles:
  `updated` takes `greater-than`/`less-than`, not `greater-or-equal`), report bodies may carry
  only the attributes their request schema names (no `group_by` on segment series), and the
  `revision` header is required; a refusal is the JSON:API 400 Klaviyo sends;
* each reporting endpoint has its daily quota (225 a day, `REPORT_DAILY_LIMIT`): past it, 429.

https://developers.klaviyo.com/en/reference/api_overview ,
https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling
"""

from __future__ import annotations

import base64
import bisect
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fakes.contract import Contract, Operation
from fakes.server import FakeApi, Reply, Request, keyset_page

PAGE_LIMITS = {
    "events": 1000,
    "profiles": 100,
    "campaigns": 100,
    "metrics": 200,
    "forms": 100,
    "segments": 100,
}
_FILTER = re.compile(r"([a-z-]+)\(([\w.]+),(\"[^\"]*\"|'[^']*'|\[[^\]]*\]|[^,()]+)\)")
CONTRACT = Contract.load("klaviyo-2026-07-15.json", closed_objects=True)
# The answers of the operations whose included resources the sync reads (tags, attributions).
RESPONSES = Contract.load("klaviyo-2026-07-15-responses.json")
REPORT_DAILY_LIMIT = 225  # "225/d" on every Query … Series/Values endpoint
_ALLOWED = re.compile(r"`([\w.$]+)`: ((?:`[a-z-]+`(?:, )?)+)")


def allowed_filters(operation: Operation) -> dict[str, set[str]]:
    """Field → operators, from the document's prose ("Allowed field(s)/operator(s): `updated`: …")."""
    parameter = operation.parameters("query").get("filter") or {}
    text = str(parameter.get("description") or "").split("operator(s):", 1)[-1]
    return {m[1]: set(re.findall(r"`([a-z-]+)`", m[2])) for m in _ALLOWED.finditer(text)}


def contract_problems(request: Request) -> list[str]:
    problems = CONTRACT.problems(request)
    operation = CONTRACT.find(request.method, request.path)
    text = request.arg("filter")
    if operation is not None and text:
        allowed = allowed_filters(operation)
        try:
            conditions = parse_filter(text)
        except ValueError as exc:
            return [*problems, str(exc)]
        for op, name, _ in conditions:
            if name not in allowed:
                problems.append(f"filter: {name!r} is not a filterable field here ({sorted(allowed)})")
            elif op not in allowed[name]:
                problems.append(f"filter: {op}({name}) is not allowed; {name} takes {sorted(allowed[name])}")
    return problems


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def error(status: int, code: str, title: str, detail: str) -> Reply:
    return Reply(
        status,
        {"errors": [{"id": "0", "status": status, "code": code, "title": title, "detail": detail}]},
        content_type="application/vnd.api+json",
    )


def parse_filter(text: str | None) -> list[tuple[str, str, str]]:
    """`and(op(field,value),…)` or `op(field,value),…` → [(op, field, value)]."""
    if not text:
        return []
    body = text[4:-1] if text.startswith("and(") and text.endswith(")") else text
    found = [(m[1], m[2], m[3].strip("\"'")) for m in _FILTER.finditer(body)]
    if not found:
        raise ValueError(f"invalid filter: {text}")
    return found


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _compare(op: str, left: datetime, right: datetime) -> bool:
    return {
        "greater-or-equal": left >= right,
        "greater-than": left > right,
        "less-or-equal": left <= right,
        "less-than": left < right,
        "equals": left == right,
    }[op]


def _fields(request: Request, kind: str) -> list[str] | None:
    """`fields[kind]=a,b` (JSON:API sparse fieldsets), or None for every attribute."""
    text = request.arg(f"fields[{kind}]")
    return text.split(",") if text else None


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _uncursor(text: str) -> Any:
    value = json.loads(base64.urlsafe_b64decode(text.encode()))
    return tuple(value) if isinstance(value, list) else value


@dataclass
class Event:
    id: str
    metric_id: str
    at: datetime
    properties: dict[str, Any]
    profile_id: str
    # Klaviyo's credit for this conversion: ("campaign" | "flow", campaign or flow id, message id).
    attributed: tuple[str, str, str] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (iso(self.at), self.id)


@dataclass
class Campaign:
    id: str
    name: str
    channel: str
    sent_at: datetime
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # message id -> {name, stats}
    tag_ids: list[str] = field(default_factory=list)  # ids in FakeKlaviyo.tags

    @property
    def updated_at(self) -> datetime:
        return self.sent_at + timedelta(minutes=5)


class FakeKlaviyo(FakeApi):
    def __init__(self, api_key: str = "pk_test_key") -> None:
        super().__init__()
        self.api_key = api_key
        self.metrics: list[dict[str, Any]] = []
        self._events: dict[str, Event] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}  # metric -> sorted event keys
        self.profiles: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.tags: dict[str, str] = {}  # tag id -> name
        self.invalid_replies: list[str] = []  # answers the published document does not describe
        self.flow_days: list[dict[str, Any]] = []  # {flow_id, flow_message_id, names, channel, date, stats}
        self.forms: dict[str, str] = {}
        self.form_days: list[dict[str, Any]] = []  # {form_id, date, stats}
        self.segments: dict[str, str] = {}
        self.segment_days: list[dict[str, Any]] = []  # {segment_id, date, stats}
        self.report_calls: dict[str, int] = {}  # reporting path -> calls answered today
        self.route("GET", r"/api/metrics/?", self._metrics)
        self.route("GET", r"/api/events/?", self._list_events)
        self.route("GET", r"/api/profiles/?", self._list_profiles)
        self.route("GET", r"/api/campaigns/?", self._list_campaigns)
        self.route("GET", r"/api/campaigns/(?P<id>[^/]+)/?", self._get_campaign)
        self.route("GET", r"/api/forms/?", self._list_names(lambda: self.forms, "form"))
        self.route("GET", r"/api/segments/?", self._list_names(lambda: self.segments, "segment"))
        self.route("POST", r"/api/campaign-values-reports/?", self._campaign_values)
        self.route("POST", r"/api/flow-series-reports/?", self._flow_series)
        self.route("POST", r"/api/form-series-reports/?", self._form_series)
        self.route("POST", r"/api/segment-series-reports/?", self._segment_series)

    # ------------------------------------------------------------------ data
    def add_metric(self, metric_id: str, name: str, integration: str = "shopify") -> None:
        self.metrics.append(
            {
                "type": "metric",
                "id": metric_id,
                "attributes": {
                    "name": name,
                    "created": "2023-01-01T00:00:00+00:00",
                    "updated": "2023-01-01T00:00:00+00:00",
                    "integration": {
                        "object": "integration",
                        "id": integration[:6],
                        "key": integration,
                        "name": integration.title(),
                        "category": "eCommerce",
                    },
                },
                "links": {"self": ""},
            }
        )
        self._keys.setdefault(metric_id, [])

    def add_event(self, event: Event) -> None:
        with self.lock:
            old = self._events.get(event.id)
            if old is not None:
                self._keys[old.metric_id].remove(old.key)
            self._events[event.id] = event
            bisect.insort(self._keys.setdefault(event.metric_id, []), event.key)

    def events(self, metric_id: str | None = None) -> list[Event]:
        return [e for e in self._events.values() if metric_id is None or e.metric_id == metric_id]

    def add_profile(self, profile_id: str, email: str, updated: datetime, **attributes: Any) -> None:
        with self.lock:
            self.profiles[profile_id] = {
                "email": email,
                "phone_number": attributes.pop("phone_number", None),
                "first_name": attributes.pop("first_name", None),
                "last_name": attributes.pop("last_name", None),
                "created": iso(attributes.pop("created", updated)),
                "updated": iso(updated),
                "location": attributes.pop("location", {}),
                "properties": attributes.pop("properties", {}),
                **attributes,
            }

    # ------------------------------------------------------------------ protocol
    def handle(self, request: Request) -> Reply | None:
        """Every answer of an operation in RESPONSES is checked against the document's schema."""
        reply = super().handle(request)
        if reply is not None and RESPONSES.find(request.method, request.path) is not None:
            body = json.loads(reply.encoded() or b"null")
            sparse = any(name.startswith("fields[") for name in request.query)
            problems = RESPONSES.response_problems(request.method, request.path, reply.status, body, sparse)
            self.invalid_replies += [f"{request.method} {request.path}: {p}" for p in problems[:5]]
        return reply

    def authorized(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Klaviyo-API-Key {self.api_key}":
            return error(
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
                "Missing or invalid private key.",
            )
        if not request.headers.get("revision"):
            return error(400, "invalid", "Invalid input.", "The 'revision' header is required.")
        return None

    def refused(self, request: Request) -> Reply | None:
        problems = contract_problems(request)
        if problems:
            return error(400, "invalid", "Invalid input.", "; ".join(problems[:5]))
        if request.path.rstrip("/").endswith("-reports"):
            path = request.path.rstrip("/")
            self.report_calls[path] = self.report_calls.get(path, 0) + 1
            if self.report_calls[path] > REPORT_DAILY_LIMIT:
                reply = error(
                    429,
                    "throttled",
                    "Request was throttled.",
                    "Request was throttled. Expected available in 86400 seconds.",
                )
                reply.headers["Retry-After"] = "86400"
                return reply
        return None

    def rate_limited(self) -> Reply:
        reply = error(
            429,
            "throttled",
            "Request was throttled.",
            f"Request was throttled. Expected available in {self.faults.retry_after} second.",
        )
        reply.headers["Retry-After"] = self.faults.retry_after
        return reply

    def server_error(self) -> Reply:
        return error(500, "error", "A server error occurred.", "A server error occurred.")

    def _page_size(self, request: Request, kind: str, default: int) -> int:
        raw = request.arg("page[size]")
        size = int(raw) if raw else default
        if not 1 <= size <= PAGE_LIMITS[kind]:
            raise ValueError(f"page[size] must be between 1 and {PAGE_LIMITS[kind]}")
        return size

    def _document(
        self,
        request: Request,
        data: list[dict[str, Any]],
        following: Any,
        included: list[dict[str, Any]] | None = None,
    ) -> Reply:
        query = {k: v[0] for k, v in request.query.items() if k != "page[cursor]"}
        next_url = None
        if following is not None:
            next_url = (
                f"{self.base_url}{request.path}?{urlencode({**query, 'page[cursor]': _cursor(following)})}"
            )
        # CollectionLinks: `next` and `prev` are URIs, not nullable, and only `self` is required:
        # the last page has no `next`.
        links = {"self": f"{self.base_url}{request.path}"}
        if next_url is not None:
            links["next"] = next_url
        body: dict[str, Any] = {"data": data, "links": links}
        if included is not None:
            body["included"] = included
        return Reply(200, body, content_type="application/vnd.api+json")

    # ------------------------------------------------------------------ lists
    def _metrics(self, request: Request, _m: re.Match[str]) -> Reply:
        return self._document(request, self.metrics, None)

    def _list_events(self, request: Request, _m: re.Match[str]) -> Reply:
        try:
            size = self._page_size(request, "events", 200)
            filters = parse_filter(request.arg("filter"))
        except ValueError as exc:
            return error(400, "invalid", "Invalid input.", str(exc))
        metric = next((v for op, f, v in filters if f == "metric_id" and op == "equals"), None)
        times = [(op, _time(v)) for op, f, v in filters if f == "datetime"]
        if any(f not in ("metric_id", "datetime") for _, f, _ in filters):
            return error(400, "invalid", "Invalid input.", "unsupported filter field")
        sort = request.arg("sort", "datetime")
        if sort != "datetime":
            return error(400, "invalid", "Invalid input.", "only sort=datetime is implemented here")
        keys = self._keys.get(metric, []) if metric else sorted(e.key for e in self._events.values())
        cursor = request.arg("page[cursor]")
        start = bisect.bisect_right(keys, _uncursor(cursor)) if cursor else 0
        lower = [t for op, t in times if op in ("greater-or-equal", "greater-than")]
        if lower and not cursor:
            start = bisect.bisect_left(keys, (iso(min(lower)), ""))
        page: list[Event] = []
        index = start
        while index < len(keys) and len(page) < size + 1:
            event = self._events[keys[index][1]]
            index += 1
            if all(_compare(op, event.at, t) for op, t in times):
                page.append(event)
        following = page[size - 1].key if len(page) > size else None
        page = page[:size]
        wanted = set((request.arg("include") or "").split(","))
        included = None
        if wanted & {"profile", "attributions"}:
            included = []
        if "profile" in wanted:
            ids = sorted({e.profile_id for e in page if e.profile_id})
            included += [self._profile_resource(i) for i in ids if i in self.profiles]
        if "attributions" in wanted:
            included += [self._attribution_resource(e) for e in page if e.attributed]
        resources = [self._event_resource(e, "attributions" in wanted) for e in page]
        return self._document(request, resources, following, included)

    def _attribution_resource(self, event: Event) -> dict[str, Any]:
        assert event.attributed is not None
        kind, object_id, message_id = event.attributed
        relationships: dict[str, Any] = {
            "event": {"data": {"type": "event", "id": event.id}},
            "attributed-event": {"data": {"type": "event", "id": f"send-{event.id}"}},
            kind: {"data": {"type": kind, "id": object_id}},
            f"{kind}-message": {"data": {"type": f"{kind}-message", "id": message_id}},
        }
        return {
            "type": "attribution",
            "id": f"attr-{event.id}",
            "relationships": relationships,
            "links": {"self": f"{self.base_url}/api/attributions/attr-{event.id}/"},
        }

    def _event_resource(self, event: Event, attributions: bool = False) -> dict[str, Any]:
        relationships: dict[str, Any] = {
            "profile": {"data": {"type": "profile", "id": event.profile_id}},
            "metric": {"data": {"type": "metric", "id": event.metric_id}},
        }
        if attributions:
            listed = [{"type": "attribution", "id": f"attr-{event.id}"}] if event.attributed else []
            relationships["attributions"] = {"data": listed}
        return {
            "type": "event",
            "id": event.id,
            "attributes": {
                "timestamp": int(event.at.timestamp()),
                "event_properties": event.properties,
                "datetime": iso(event.at),
                "uuid": event.id,
            },
            "relationships": relationships,
            "links": {"self": f"{self.base_url}/api/events/{event.id}/"},
        }

    def _profile_resource(self, profile_id: str) -> dict[str, Any]:
        return {
            "type": "profile",
            "id": profile_id,
            "attributes": dict(self.profiles[profile_id]),
            "links": {"self": f"{self.base_url}/api/profiles/{profile_id}/"},
        }

    def _list_profiles(self, request: Request, _m: re.Match[str]) -> Reply:
        try:
            size = self._page_size(request, "profiles", 20)
            filters = parse_filter(request.arg("filter"))
        except ValueError as exc:
            return error(400, "invalid", "Invalid input.", str(exc))
        if any(f != "updated" for _, f, _ in filters) or request.arg("sort", "updated") != "updated":
            return error(400, "invalid", "Invalid input.", "only updated filters and sort are implemented")
        rows = [
            {"id": pid, **attrs}
            for pid, attrs in self.profiles.items()
            if all(_compare(op, _time(attrs["updated"]), _time(v)) for op, _, v in filters)
        ]
        cursor = request.arg("page[cursor]")
        page, following = keyset_page(
            rows, lambda r: (r["updated"], r["id"]), _uncursor(cursor) if cursor else None, size
        )
        return self._document(request, [self._profile_resource(r["id"]) for r in page], following)

    def _list_campaigns(self, request: Request, _m: re.Match[str]) -> Reply:
        try:
            size = self._page_size(request, "campaigns", 100)
            filters = parse_filter(request.arg("filter"))
        except ValueError as exc:
            return error(400, "invalid", "Invalid input.", str(exc))
        channel = next((v for op, f, v in filters if f == "messages.channel" and op == "equals"), None)
        if channel is None:
            return error(400, "invalid", "Invalid input.", "A channel filter is required to list campaigns.")
        updated = [(op, _time(v)) for op, f, v in filters if f == "updated_at"]
        rows = [
            c
            for c in self.campaigns.values()
            if c.channel == channel and all(_compare(op, c.updated_at, t) for op, t in updated)
        ]
        cursor = request.arg("page[cursor]")
        page, following = keyset_page(
            [{"id": c.id} for c in rows], lambda r: r["id"], _uncursor(cursor) if cursor else None, size
        )
        campaigns = [self.campaigns[r["id"]] for r in page]
        tags = self._tags_included(request, campaigns)
        fields = _fields(request, "campaign")
        return self._document(
            request,
            [self._campaign_resource(c, tags is not None, fields) for c in campaigns],
            following,
            tags,
        )

    def _tags_included(self, request: Request, campaigns: list[Campaign]) -> list[dict[str, Any]] | None:
        """`include=tags`: every tag of these campaigns once, with the `fields[tag]` asked for."""
        if "tags" not in (request.arg("include") or "").split(","):
            return None
        fields = (request.arg("fields[tag]") or "name").split(",")
        ids = sorted({t for c in campaigns for t in c.tag_ids})
        return [
            {
                "type": "tag",
                "id": tag_id,
                "attributes": {"name": self.tags[tag_id]} if "name" in fields else {},
                "links": {"self": f"{self.base_url}/api/tags/{tag_id}/"},
            }
            for tag_id in ids
        ]

    def _campaign_resource(
        self, campaign: Campaign, with_tags: bool = False, fields: list[str] | None = None
    ) -> dict[str, Any]:
        attributes = {
            "name": campaign.name,
            "status": "Sent",
            "archived": False,
            "audiences": {"included": ["LIST1"], "excluded": []},
            "send_options": {"use_smart_sending": True},
            "send_strategy": {"method": "immediate"},
            "created_at": iso(campaign.sent_at - timedelta(days=1)),
            "scheduled_at": iso(campaign.sent_at),
            "send_time": iso(campaign.sent_at),
            "updated_at": iso(campaign.updated_at),
        }
        if fields:  # JSON:API sparse fieldsets: only the attributes asked for
            attributes = {k: v for k, v in attributes.items() if k in fields}
        resource: dict[str, Any] = {
            "type": "campaign",
            "id": campaign.id,
            "attributes": attributes,
            "links": {"self": f"{self.base_url}/api/campaigns/{campaign.id}/"},
        }
        if with_tags:
            resource["relationships"] = {
                "tags": {"data": [{"type": "tag", "id": t} for t in sorted(campaign.tag_ids)]}
            }
        return resource

    def _get_campaign(self, request: Request, match: re.Match[str]) -> Reply:
        campaign = self.campaigns.get(match["id"])
        if campaign is None:
            return error(404, "not_found", "Not found.", f"Campaign {match['id']} not found.")
        tags = self._tags_included(request, [campaign])
        body: dict[str, Any] = {
            "data": self._campaign_resource(campaign, tags is not None, _fields(request, "campaign")),
            "links": {"self": f"{self.base_url}/api/campaigns/{campaign.id}/"},
        }
        if tags is not None:
            body["included"] = tags
        return Reply(200, body, content_type="application/vnd.api+json")

    def _list_names(self, source: Any, kind: str) -> Any:
        def handler(request: Request, _m: re.Match[str]) -> Reply:
            rows = [
                {"type": kind, "id": i, "attributes": {"name": n}, "links": {"self": ""}}
                for i, n in sorted(source().items())
            ]
            cursor = request.arg("page[cursor]")
            page, following = keyset_page(rows, lambda r: r["id"], _uncursor(cursor) if cursor else None, 10)
            return self._document(request, page, following)

        return handler

    # ------------------------------------------------------------------ reports
    def _report_request(
        self, request: Request, report_type: str, max_days: int, needs_conversion: bool
    ) -> tuple[dict[str, Any], date, date] | Reply:
        body = request.json() or {}
        data = body.get("data") or {}
        attributes = data.get("attributes") or {}
        if data.get("type") != report_type:
            return error(400, "invalid", "Invalid input.", f"type must be {report_type}")
        if not attributes.get("statistics"):
            return error(400, "invalid", "Invalid input.", "statistics is required")
        if needs_conversion and not attributes.get("conversion_metric_id"):
            return error(400, "invalid", "Invalid input.", "conversion_metric_id is required")
        timeframe = attributes.get("timeframe") or {}
        try:
            start, end = _time(timeframe["start"]), _time(timeframe["end"])
        except (KeyError, ValueError):
            return error(400, "invalid", "Invalid input.", "timeframe needs start and end")
        if end - start > timedelta(days=max_days):
            return error(
                400, "invalid", "Invalid input.", f"The timeframe cannot be longer than {max_days} days."
            )
        return attributes, start.date(), end.date()

    @staticmethod
    def _report(report_type: str, attributes: dict[str, Any]) -> Reply:
        return Reply(
            200,
            {"data": {"type": report_type, "id": "r", "attributes": attributes}, "links": {"self": ""}},
            content_type="application/vnd.api+json",
        )

    def _campaign_values(self, request: Request, _m: re.Match[str]) -> Reply:
        parsed = self._report_request(request, "campaign-values-report", 366, True)
        if isinstance(parsed, Reply):
            return parsed
        attributes, start, end = parsed
        results = []
        for campaign in self.campaigns.values():
            if not start <= campaign.sent_at.date() <= end:
                continue
            for message_id, message in campaign.messages.items():
                results.append(
                    {
                        "groupings": {
                            "campaign_id": campaign.id,
                            "campaign_message_id": message_id,
                            "campaign_message_name": message["name"],
                            "send_channel": campaign.channel,
                        },
                        "statistics": {k: message["stats"].get(k, 0) for k in attributes["statistics"]},
                    }
                )
        return self._report("campaign-values-report", {"results": results})

    def _series(
        self,
        days_rows: list[dict[str, Any]],
        group: tuple[str, ...],
        attributes: dict[str, Any],
        start: date,
        end: date,
        report_type: str,
    ) -> Reply:
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        groups: dict[tuple[Any, ...], dict[date, dict[str, Any]]] = {}
        for row in days_rows:
            if start <= row["date"] <= end:
                groups.setdefault(tuple(row[k] for k in group), {})[row["date"]] = row["stats"]
        results = []
        for key, by_day in sorted(groups.items()):
            results.append(
                {
                    "groupings": dict(zip(group, key, strict=True)),
                    "statistics": {
                        s: [by_day.get(d, {}).get(s, 0) for d in days] for s in attributes["statistics"]
                    },
                }
            )
        date_times = [datetime(d.year, d.month, d.day, tzinfo=UTC).isoformat() for d in days]
        return self._report(report_type, {"results": results, "date_times": date_times})

    def _flow_series(self, request: Request, _m: re.Match[str]) -> Reply:
        parsed = self._report_request(request, "flow-series-report", 60, True)
        if isinstance(parsed, Reply):
            return parsed
        attributes, start, end = parsed
        group = ("flow_id", "flow_message_id", "flow_name", "flow_message_name", "send_channel")
        return self._series(self.flow_days, group, attributes, start, end, "flow-series-report")

    def _form_series(self, request: Request, _m: re.Match[str]) -> Reply:
        parsed = self._report_request(request, "form-series-report", 60, False)
        if isinstance(parsed, Reply):
            return parsed
        attributes, start, end = parsed
        return self._series(self.form_days, ("form_id",), attributes, start, end, "form-series-report")

    def _segment_series(self, request: Request, _m: re.Match[str]) -> Reply:
        parsed = self._report_request(request, "segment-series-report", 60, False)
        if isinstance(parsed, Reply):
            return parsed
        attributes, start, end = parsed
        return self._series(
            self.segment_days, ("segment_id",), attributes, start, end, "segment-series-report"
        )


# ---------------------------------------------------------------------- builders


def shopify_placed_order(
    order_id: int, at: datetime, lines: list[dict[str, Any]], *, discount: str = "0.00", currency: str = "USD"
) -> dict[str, Any]:
    """Placed Order properties as Klaviyo's Shopify integration sends them."""
    total = sum(float(line["price"]) * line["quantity"] for line in lines) - float(discount)
    return {
        "$event_id": str(order_id),
        "$value": round(total, 2),
        "$currency_code": currency,
        "Item Count": sum(line["quantity"] for line in lines),
        "ItemNames": [line["title"] for line in lines],
        "Discount Codes": ["WELCOME10"] if float(discount) else [],
        "Total Discounts": discount,
        "Source Name": "web",
        "$extra": {
            "order_number": order_id % 100000,
            "line_items": [
                {
                    "id": line["id"],
                    "product_id": line["product_id"],
                    "variant_id": line["variant_id"],
                    "sku": line["sku"],
                    "title": line["title"],
                    "quantity": line["quantity"],
                    "price": line["price"],
                    "line_price": f"{float(line['price']) * line['quantity']:.2f}",
                    "total_discount": "0.00",
                }
                for line in lines
            ],
        },
    }


def api_placed_order(order_ref: str, value: float, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Placed Order properties in Klaviyo's documented custom-integration shape."""
    return {
        "$event_id": order_ref,
        "$value": value,
        "OrderId": order_ref,
        "ItemNames": [item["ProductName"] for item in items],
        "Items": items,
    }


def add_orders(
    fake: FakeKlaviyo,
    count: int,
    *,
    metric_id: str = "PLACED",
    start: datetime,
    lines_per_order: int = 3,
    id_offset: int = 5_000_000_000,
    step: timedelta = timedelta(minutes=1),
    profiles: int = 50,
) -> None:
    """`count` Shopify-origin Placed Order events, one per `step`, with `lines_per_order` lines."""
    for i in range(count):
        order_id = id_offset + i
        lines = [
            {
                "id": order_id * 10 + j,
                "product_id": 700 + (i + j) % 40,
                "variant_id": 9000 + (i + j) % 120,
                "sku": f"SKU-{(i + j) % 120}",
                "title": f"Product {(i + j) % 40}",
                "quantity": 1 + (i + j) % 3,
                "price": f"{9.99 + (i + j) % 7:.2f}",
            }
            for j in range(lines_per_order)
        ]
        fake.add_event(
            Event(
                id=f"ev{order_id}",
                metric_id=metric_id,
                at=start + step * i,
                properties=shopify_placed_order(order_id, start + step * i, lines),
                profile_id=f"prof{i % profiles}",
            )
        )
