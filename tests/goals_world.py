"""Rows for the goals and funnels tests: hits and sessions on sites of their own, inserted into
the query tests' migrated database (`loaded` in tests/integration/conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from touchline.ingest.rows import EventRow

HOST = "funnels.example.com"


def hit_row(
    site_id: str, visitor: str, at: datetime, path: str = "/", name: str = "pageview", **extra: Any
) -> str:
    return EventRow(
        event_id=extra.pop("event_id", None) or uuid.uuid4(),
        site_id=site_id,
        timestamp=at,
        received_at=at,
        event_type="pageview" if name == "pageview" else "goal",
        name=name,
        visitor_id=visitor,
        url=f"https://{HOST}{path}",
        hostname=HOST,
        pathname=path,
        **extra,
    ).to_json()


def _ms(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def session_row(site_id: str, visitor: str, start: datetime, source: str = "", **extra: Any) -> str:
    return json.dumps(
        {
            "site_id": site_id,
            "visitor_id": visitor,
            "session_id": uuid.uuid4().hex[:16],
            "session_start": _ms(start),
            "session_end": _ms(start),
            "source": source,
            "channel": "Direct" if not source else "Organic Search",
            "hostname": HOST,
            "version": 1,
            **extra,
        }
    )


def hit_list(hit_rows: Iterable[str]) -> list[dict[str, Any]]:
    """A session's `hit_list` (what the aggregation writes) for hits made by `hit_row`."""
    hits = [json.loads(row) for row in hit_rows]
    return [
        {
            "timestamp": h["timestamp"],
            "event_type": h["event_type"],
            "name": h["name"],
            "pathname": h["pathname"],
            "revenue": h.get("revenue"),
            "currency": h.get("currency") or "",
        }
        for h in hits
    ]


def insert(client: Any, table: str, rows: Iterable[str]) -> None:
    body = "\n".join(rows).encode()
    if body:
        client.raw_insert(table, insert_block=body, fmt="JSONEachRow")


def new_site() -> str:
    return "fn" + uuid.uuid4().hex[:14]
