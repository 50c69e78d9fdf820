"""What every answer to a fuzzed request must satisfy, and where the good requests ended up."""

from __future__ import annotations

import json
import os
from collections import defaultdict

from fuzz.inputs import Marker, Request
from fuzz.stack import Answer
from touchline.warehouse.client import connect


class FuzzFailure(AssertionError):
    pass


def describe(request: Request) -> str:
    headers = {k: (v if len(v) < 80 else v[:80] + "…") for k, v in request.headers}
    return (
        f"{request.method} {request.target} [{request.label}] headers={headers} "
        f"body={request.body[:300]!r}{'…' if len(request.body) > 300 else ''} "
        f"({len(request.body)} bytes) hook={getattr(request.hook, '__name__', None)}"
    )


def check_answer(answer: Answer, request: Request) -> None:
    """No 5xx; a 4xx is a JSON object with an error (and a 2xx of a JSON route is JSON)."""
    if answer.status >= 500:
        raise FuzzFailure(f"{answer.status} {answer.body[:400]!r} for {describe(request)}")
    if 400 <= answer.status < 500:
        if "json" not in answer.headers.get("content-type", ""):
            raise FuzzFailure(f"{answer.status} without a JSON content type for {describe(request)}")
        try:
            body = json.loads(answer.body)
        except ValueError:
            raise FuzzFailure(f"{answer.status} body is not JSON: {answer.body[:200]!r}") from None
        if not isinstance(body, dict) or not ({"error", "message"} & set(body)):
            raise FuzzFailure(f"{answer.status} body names no error: {body!r} for {describe(request)}")


def stored_markers(markers: list[Marker]) -> dict[Marker, bool]:
    """Which markers have a row in ClickHouse (one query per table and column)."""
    client = connect(os.environ["TOUCHLINE_CLICKHOUSE_URL"])
    wanted: dict[tuple[str, str], list[Marker]] = defaultdict(list)
    for marker in markers:
        wanted[(marker.table, marker.column)].append(marker)
    found: dict[Marker, bool] = {}
    for (table, column), group in wanted.items():
        rows = client.query(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN {{values:Array(String)}}",
            parameters={"values": [m.value for m in group]},
        ).result_rows
        present = {str(r[0]) for r in rows}
        found.update({m: m.value in present for m in group})
    return found
