"""The record of every GDPR request (`privacy_requests`, migration 0055; docs/identity.md): which
kind, about whom, who ran it, when, and what it found.

The subject is kept as the sha256 of what the request named — the user id, or the email as
`email_sha256` normalises it — never in clear, so the record of a deletion keeps none of the data
it erased, yet "was I deleted?" can be answered by hashing the same value again. A person's
export lists their earlier requests (matched on the hashes of their user ids and emails).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from touchline.identity.gdpr import Subject
from touchline.identity.rows import email_sha256
from touchline.warehouse.sql import Sql

COLUMNS = (
    "request_id",
    "kind",
    "subject_type",
    "subject_sha256",
    "requested_by",
    "reference",
    "requested_at",
    "completed_at",
    "status",
    "rows",
)


def subject_of(*, user_id: str | None = None, email: str | None = None) -> tuple[str, str]:
    """(subject_type, subject_sha256) of what a request was given."""
    if user_id:
        return "user_id", hashlib.sha256(user_id.encode()).hexdigest()
    if email:
        return "email", email_sha256(email)
    raise ValueError("give a user id or an email")


def record(
    sql: Sql,
    site_id: str,
    kind: str,
    subject: tuple[str, str],
    *,
    requested_by: str,
    requested_at: datetime,
    rows: Mapping[str, int],
    reference: str = "",
) -> dict[str, Any]:
    """Insert the request's record (every value bound); returns it as stored."""
    if kind not in ("export", "delete"):
        raise ValueError(f"a privacy request is an export or a delete, not {kind!r}")
    completed_at = datetime.now(UTC)
    entry: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "kind": kind,
        "subject_type": subject[0],
        "subject_sha256": subject[1],
        "requested_by": requested_by[:256],
        "reference": reference[:256],
        "requested_at": requested_at.isoformat(),
        "completed_at": completed_at.isoformat(),
        "status": "completed" if any(rows.values()) else "nothing_found",
        "rows": {table: int(count) for table, count in sorted(rows.items())},
    }
    sql.command(
        f"INSERT INTO privacy_requests (site_id, {', '.join(COLUMNS)}) SELECT {{site:String}}, "
        "toUUID({request_id:String}), {kind:String}, {subject_type:String}, {subject_sha256:String}, "
        "{requested_by:String}, {reference:String}, "
        "parseDateTime64BestEffort({requested_at:String}, 3, 'UTC'), "
        "parseDateTime64BestEffort({completed_at:String}, 3, 'UTC'), {status:String}, "
        "mapFromArrays({tables:Array(String)}, {counts:Array(UInt64)})",
        {
            **{k: v for k, v in entry.items() if k != "rows"},
            "site": site_id,
            "tables": list(entry["rows"]),
            "counts": list(entry["rows"].values()),
        },
    )
    return entry


def of_subject(sql: Sql, subject: Subject) -> list[dict[str, Any]]:
    """The person's earlier requests, oldest first."""
    hashes = sorted(
        {hashlib.sha256(u.encode()).hexdigest() for u in subject.values("user")} | subject.email_hashes
    )
    if not hashes:
        return []
    found = sql.rows(
        f"SELECT {', '.join(COLUMNS)} FROM privacy_requests FINAL WHERE site_id = {{site:String}} "
        "AND subject_sha256 IN {hashes:Array(String)} ORDER BY requested_at, request_id",
        {"site": subject.site_id, "hashes": hashes},
    )
    return [
        {
            c: (v.isoformat() if isinstance(v, datetime) else str(v) if c == "request_id" else v)
            for c, v in zip(COLUMNS, row, strict=True)
        }
        for row in found
    ]
