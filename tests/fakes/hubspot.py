"""A fake HubSpot CRM API (v3 search, v4 associations) as the documentation describes it.

* auth: `Authorization: Bearer <private app token>`; 401 `{"status": "error", "message":
  "Authentication credentials not found…", "category": "INVALID_AUTHENTICATION"}`;
* `POST /crm/v3/objects/{contacts,deals}/search`: `filterGroups` (OR of groups, AND of filters;
  `EQ`, `GT`, `GTE`, `LT`, `LTE` on millisecond timestamps), one sort, `limit` ≤ 200 (default 10),
  `after`; answers `{"total", "results": [{"id", "properties", "createdAt", "updatedAt",
  "archived"}], "paging": {"next": {"after": "…"}}}`; paging past 10,000 results is a 400;
* `POST /crm/v4/associations/deals/contacts/batch/read`;
* rate limited: 429 `{"status": "error", "message": "You have reached your secondly limit.",
  "errorType": "RATE_LIMIT", "policyName": "SECONDLY"}`, no `Retry-After`;
* every request is checked against HubSpot's published OpenAPI documents (tests/payloads/apis/
  hubspot-crm.json, cut from HubSpot/HubSpot-public-api-spec-collection): the operation must exist
  and the body must validate against its request schema, with no property the schema does not
  name (HubSpot answers 400 `Invalid input JSON … Unrecognized field`); filter operators are the
  document's enum. Two overlays, both from HubSpot's own "Search the CRM" guide, which the
  generated document contradicts: a sort may be the documented `{"propertyName", "direction"}`
  object as well as a string, and no field is required (the guide's empty `{}` body is valid).

https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fakes.contract import Contract
from fakes.server import FakeApi, Reply, Request

MODIFIED = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
_SEARCH = {
    "type": "object",
    "properties": {
        "after": {"type": "string"},
        "filterGroups": {
            "type": "array",
            "maxItems": 6,  # "Up to 6 groups of filters"
            "items": {"$ref": "#/components/schemas/FilterGroup"},
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},  # "up to 200 objects"
        "properties": {"type": "array", "items": {"type": "string"}},
        "query": {"type": "string", "maxLength": 3000},
        "sorts": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "required": ["propertyName"],
                        "properties": {
                            "propertyName": {"type": "string"},
                            "direction": {"type": "string", "enum": ["ASCENDING", "DESCENDING"]},
                        },
                    },
                ]
            },
        },
    },
}
CONTRACT = Contract.load(
    "hubspot-crm.json",
    trailing_slash=False,
    closed_objects=True,
    overlays={
        "post-/crm/v3/objects/contacts/search_doSearch": _SEARCH,
        "post-/crm/v3/objects/0-3/search_doSearch": _SEARCH,
    },
)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _millis(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubSpot(FakeApi):
    def __init__(self, token: str = "pat-na1-test") -> None:
        super().__init__()
        self.token = token
        self.objects: dict[str, dict[str, dict[str, Any]]] = {"contacts": {}, "deals": {}}
        self.deal_contacts: dict[str, list[int]] = {}
        self.faults.retry_after = ""
        self.route("POST", r"/crm/v3/objects/(?P<kind>contacts|deals)/search", self._search)
        self.route("POST", r"/crm/v4/associations/deals/contacts/batch/read", self._associations)

    def put(self, kind: str, object_id: str, modified: datetime, **properties: Any) -> None:
        with self.lock:
            current = self.objects[kind].get(object_id, {"createdate": stamp(modified)})
            current.update({k: v for k, v in properties.items()})
            current[MODIFIED[kind]] = stamp(modified)
            current["hs_object_id"] = object_id
            self.objects[kind][object_id] = current

    def authorized(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                {
                    "status": "error",
                    "message": "Authentication credentials not found. This API "
                    "supports OAuth 2.0 authentication and you can find more details at "
                    "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "correlationId": "c0ffee",
                    "category": "INVALID_AUTHENTICATION",
                },
            )
        return None

    def refused(self, request: Request) -> Reply | None:
        problems = CONTRACT.problems(request)
        if not problems:
            return None
        return Reply(
            400,
            {
                "status": "error",
                "message": "Invalid input JSON: " + "; ".join(problems[:5]),
                "correlationId": "c0ffee",
                "category": "VALIDATION_ERROR",
            },
        )

    def rate_limited(self) -> Reply:
        return Reply(
            429,
            {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "c0ffee",
                "policyName": "SECONDLY",
            },
        )

    def server_error(self) -> Reply:
        return Reply(502, {"status": "error", "message": "Bad Gateway", "category": "BAD_GATEWAY"})

    def _matches(self, properties: dict[str, Any], group: dict[str, Any]) -> bool:
        for condition in group.get("filters") or []:
            value = properties.get(condition["propertyName"])
            if value is None:
                return False
            left = _millis(value) if condition["propertyName"] in MODIFIED.values() else value
            right = int(condition["value"]) if isinstance(left, int) else condition["value"]
            ok = {
                "EQ": left == right,
                "GT": left > right,
                "GTE": left >= right,
                "LT": left < right,
                "LTE": left <= right,
            }.get(condition["operator"])
            if ok is None:
                raise ValueError(f"unsupported operator {condition['operator']}")
            if not ok:
                return False
        return True

    def _search(self, request: Request, match: re.Match[str]) -> Reply:
        kind = match["kind"]
        body = request.json() or {}
        limit = int(body.get("limit", 10))
        if not 1 <= limit <= 200:
            return Reply(
                400,
                {
                    "status": "error",
                    "message": "limit must be between 1 and 200",
                    "category": "VALIDATION_ERROR",
                },
            )
        after = int(body.get("after") or 0)
        if after + limit > 10_000:
            return Reply(
                400,
                {
                    "status": "error",
                    "message": "The search endpoints are limited to 10,000 "
                    "total results for any given query.",
                    "category": "VALIDATION_ERROR",
                },
            )
        groups = body.get("filterGroups") or []
        try:
            found = [
                (object_id, props)
                for object_id, props in self.objects[kind].items()
                if not groups or any(self._matches(props, g) for g in groups)
            ]
        except ValueError as exc:
            return Reply(400, {"status": "error", "message": str(exc), "category": "VALIDATION_ERROR"})
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            return Reply(
                400,
                {"status": "error", "message": "only one sort is allowed", "category": "VALIDATION_ERROR"},
            )
        if sorts:
            prop = sorts[0]["propertyName"]
            found.sort(
                key=lambda item: _millis(item[1][prop]) if prop in MODIFIED.values() else item[1][prop],
                reverse=sorts[0].get("direction") == "DESCENDING",
            )
        page = found[after : after + limit]
        wanted = body.get("properties") or ["createdate", MODIFIED[kind], "hs_object_id"]
        results = [
            {
                "id": object_id,
                "properties": {p: props.get(p) for p in wanted},
                "createdAt": props["createdate"],
                "updatedAt": props[MODIFIED[kind]],
                "archived": False,
            }
            for object_id, props in page
        ]
        reply: dict[str, Any] = {"total": len(found), "results": results}
        if after + limit < len(found):
            reply["paging"] = {"next": {"after": str(after + limit), "link": None}}
        return Reply(200, reply)

    def _associations(self, request: Request, _m: re.Match[str]) -> Reply:
        inputs = (request.json() or {}).get("inputs") or []
        results = [
            {
                "from": {"id": item["id"]},
                "to": [
                    {
                        "toObjectId": c,
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}],
                    }
                    for c in self.deal_contacts.get(item["id"], [])
                ],
            }
            for item in inputs
            if self.deal_contacts.get(item["id"])
        ]
        return Reply(
            200,
            {
                "status": "COMPLETE",
                "results": results,
                "startedAt": stamp(datetime.now(UTC)),
                "completedAt": stamp(datetime.now(UTC)),
            },
        )
