"""A fake Gorgias REST API as the documentation describes it.

* auth: HTTP Basic `<email>:<api key>`; 401 otherwise;
* `GET /api/tickets` and `GET /api/satisfaction-surveys`: `limit` ≤ 100 (default 30), `order_by`
  (`updated_datetime:desc`, `created_datetime:desc`, …), `cursor`; answers
  `{"data": [...], "meta": {"prev_cursor", "next_cursor"}, "object": "list", "uri"}`; no date
  filters; cursors are positions (`["next", <sort value>, <id>]`, base64), so records changing
  while a client walks move instead of shifting pages; an unknown cursor is a 400;
* a leaky bucket of 40 calls per 20 s: `X-Gorgias-Account-Api-Call-Limit: <used>/40`, 429 with
  `Retry-After: <seconds>`;
* every request is checked against the documented REST reference (tests/payloads/apis/
  gorgias-rest.json): unknown parameters, `order_by` values, `limit` bounds, the Basic header.

https://developers.gorgias.com/reference/pagination-1 , https://developers.gorgias.com/reference/limitations-1
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from fakes.contract import Contract
from fakes.server import FakeApi, Reply, Request

ORDERINGS = {"updated_datetime", "created_datetime"}


# The documented REST reference of the operations the sync calls (tests/payloads/apis/README.md):
# unknown query parameters, values outside their enums and bounds, a missing credential header
# are refused before the fake answers.
CONTRACT = Contract.load("gorgias-rest.json", trailing_slash=True)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class FakeGorgias(FakeApi):
    def __init__(self, email: str = "ops@example.com", api_key: str = "gorgias-key") -> None:
        super().__init__()
        self.email = email
        self.api_key = api_key
        self.tickets: dict[int, dict[str, Any]] = {}
        self.surveys: dict[int, dict[str, Any]] = {}
        self.calls_in_window = 0
        self.faults.retry_after = "1"
        self.route("GET", r"/api/tickets/?", lambda r, m: self._list(r, self.tickets, "/api/tickets"))
        self.route(
            "GET",
            r"/api/satisfaction-surveys/?",
            lambda r, m: self._list(r, self.surveys, "/api/satisfaction-surveys"),
        )

    def authorized(self, request: Request) -> Reply | None:
        expected = base64.b64encode(f"{self.email}:{self.api_key}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Reply(401, {"error": {"msg": "Invalid API key or email (authentication failed)"}})
        return None

    def refused(self, request: Request) -> Reply | None:
        problems = CONTRACT.problems(request)
        if not problems:
            return None
        return Reply(400, {"error": {"msg": "; ".join(problems[:5])}})

    def rate_limited(self) -> Reply:
        return Reply(
            429,
            {"error": {"msg": "Too many requests"}},
            {"Retry-After": self.faults.retry_after, "X-Gorgias-Account-Api-Call-Limit": "40/40"},
        )

    def _list(self, request: Request, store: dict[int, dict[str, Any]], uri: str) -> Reply:
        self.calls_in_window = (self.calls_in_window + 9) % 41  # reaches 36/40 on the 4th call
        headers = {"X-Gorgias-Account-Api-Call-Limit": f"{self.calls_in_window}/40"}
        limit = int(request.arg("limit", "30") or 30)
        if not 1 <= limit <= 100:
            return Reply(400, {"error": {"msg": "limit must be between 1 and 100"}}, headers)
        field, _, direction = (request.arg("order_by") or "created_datetime:desc").partition(":")
        if field not in ORDERINGS or direction not in ("asc", "desc"):
            return Reply(400, {"error": {"msg": f"invalid order_by {request.arg('order_by')}"}}, headers)
        descending = direction == "desc"

        def key(record: dict[str, Any]) -> tuple[str, int]:
            return (datetime.fromisoformat(record[field]).isoformat(), int(record["id"]))

        rows = sorted(store.values(), key=key, reverse=descending)
        cursor = request.arg("cursor")
        if cursor:
            try:
                _, sort_value, last_id = json.loads(base64.b64decode(cursor))
            except (ValueError, TypeError):
                return Reply(400, {"error": {"msg": "Invalid cursor"}}, headers)
            after = (sort_value, last_id)
            rows = [r for r in rows if (key(r) < after if descending else key(r) > after)]
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            sort_value, last_id = key(page[-1])
            next_cursor = base64.b64encode(json.dumps(["next", sort_value, last_id]).encode()).decode()
        body = {
            "data": page,
            "meta": {"prev_cursor": None, "next_cursor": next_cursor},
            "object": "list",
            "uri": uri,
        }
        return Reply(200, body, headers)


def ticket(
    ticket_id: int, created: datetime, updated: datetime, customer_id: int, email: str, status: str = "open"
) -> dict[str, Any]:
    return {
        "id": ticket_id,
        "uri": f"/api/tickets/{ticket_id}/",
        "external_id": None,
        "language": "en",
        "status": status,
        "priority": "normal",
        "channel": "email",
        "via": "email",
        "from_agent": False,
        "customer": {
            "id": customer_id,
            "email": email,
            "name": f"Customer {customer_id}",
            "firstname": "Cus",
            "lastname": f"{customer_id}",
        },
        "assignee_user": {"id": 7, "email": "agent@example.com"},
        "subject": f"Where is my order {ticket_id}?",
        "tags": [{"id": 1, "name": "shipping"}],
        "messages_count": 2,
        "spam": False,
        "created_datetime": stamp(created),
        "opened_datetime": stamp(created),
        "updated_datetime": stamp(updated),
        "last_message_datetime": stamp(updated),
        "closed_datetime": None,
    }


def survey(
    survey_id: int,
    created: datetime,
    customer_id: int,
    ticket_id: int,
    score: int | None = None,
    scored: datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": survey_id,
        "uri": f"/api/satisfaction-surveys/{survey_id}/",
        "customer_id": customer_id,
        "ticket_id": ticket_id,
        "score": score,
        "body_text": "Great" if score else None,
        "created_datetime": stamp(created),
        "sent_datetime": stamp(created),
        "scored_datetime": stamp(scored) if scored else None,
        "should_send_datetime": stamp(created),
        "meta": {},
    }


def touch(record: dict[str, Any], at: datetime, **changes: Any) -> None:
    record.update(changes)
    record["updated_datetime"] = stamp(at)
