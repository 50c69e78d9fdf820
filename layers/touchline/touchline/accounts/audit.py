"""The security audit log: who did what, to which site, when, from where (migration 0022).

Rows are appended through the events queue like every other table (`QueueAuditSink`; the CLI
writes them straight to ClickHouse when no local stack holds it). They never carry a secret:
`details` is built by the domain functions from names and ids, and `AuditRow` redacts values
that look like one of Touchline's own credentials, as a last line of defence.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import orjson
from pydantic import AwareDatetime, Field, field_validator

from touchline.accounts.permissions import Principal
from touchline.envelope import EARLIEST, LATEST, Row, envelope_json
from touchline.ingest.queue import EventQueue
from touchline.warehouse.sql import Sql

# Prefixes of every credential Touchline issues (API keys, write keys, payment tokens, shared
# links and their sessions) and of the webhook secrets it stores: none may reach the log.
_SECRET_SHAPES = re.compile(
    r"(tl_|tlk_|tlwk_|tlsh_|tlss_|whsec_|shpss_|pk_[A-Za-z0-9]{20})[A-Za-z0-9_\-]{8,}"
)
Outcome = Literal["success", "denied"]


class AuditRow(Row):
    audit_id: uuid.UUID
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    org_id: str = Field(max_length=64)
    site_id: str = Field("", max_length=64)
    actor_type: str = Field(max_length=16)
    actor_id: str = Field(max_length=128)
    actor_email: str = Field("", max_length=254)
    action: str = Field(max_length=64)
    outcome: str = Field("success", max_length=16)
    target_type: str = Field("", max_length=32)
    target_id: str = Field("", max_length=256)
    source_ip: str = Field("", max_length=64)
    user_agent: str = Field("", max_length=512)
    request_id: str = Field("", max_length=128)
    details: str = Field("", max_length=4096)

    @field_validator("target_id", "details", "user_agent")
    @classmethod
    def _no_secrets(cls, value: str) -> str:
        # Redacted rather than refused: the change it records has already happened.
        return _SECRET_SHAPES.sub("[redacted]", value)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a request came from, as the audit log records it."""

    source_ip: str = ""
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> RequestContext:
        """From an API Gateway payload 2.0 event's `requestContext`."""
        request = event.get("requestContext") or {}
        http = request.get("http") or {}
        return cls(
            source_ip=str(http.get("sourceIp", "")),
            user_agent=str(http.get("userAgent", "")),
            request_id=str(request.get("requestId", "")),
        )


def audit_row(
    principal: Principal,
    action: str,
    *,
    org_id: str,
    site_id: str = "",
    outcome: Outcome = "success",
    target: tuple[str, str] = ("", ""),
    details: Mapping[str, Any] | None = None,
    context: RequestContext | None = None,
    at: datetime | None = None,
) -> AuditRow:
    context = context or RequestContext()
    return AuditRow(
        audit_id=uuid.uuid4(),
        at=at or datetime.now(UTC),
        org_id=org_id,
        site_id=site_id or "",
        actor_type=principal.kind,
        actor_id=principal.id[:128],
        actor_email=principal.email,
        action=action,
        outcome=outcome,
        target_type=target[0],
        target_id=target[1],
        source_ip=context.source_ip[:64],
        user_agent=context.user_agent[:512],
        request_id=context.request_id[:128],
        details=orjson.dumps(dict(details), default=str).decode() if details else "",
    )


def sign_in_rows(principal: Principal, session_id: str, context: RequestContext) -> list[AuditRow]:
    """A person's first request with a new Cognito session: one row per organisation of theirs."""
    return [
        audit_row(principal, "auth.sign_in", org_id=org_id, target=("session", session_id), context=context)
        for org_id in sorted(principal.memberships)
    ]


class AuditSink(Protocol):
    def record(self, rows: Sequence[AuditRow]) -> None:
        """Append the rows (at least once; redeliveries collapse on `audit_id`)."""
        ...


class QueueAuditSink:
    """Through the events queue and the loader, like every other row."""

    def __init__(self, queue: EventQueue) -> None:
        self._queue = queue

    def record(self, rows: Sequence[AuditRow]) -> None:
        if rows:
            self._queue.send([envelope_json("audit_log", row) for row in rows])


class ListAuditSink:
    """Keeps rows in memory (tests, and the CLI before it writes them)."""

    def __init__(self) -> None:
        self.rows: list[AuditRow] = []

    def record(self, rows: Sequence[AuditRow]) -> None:
        self.rows.extend(rows)


AUDIT_COLUMNS = (
    "audit_id",
    "at",
    "org_id",
    "site_id",
    "actor_type",
    "actor_id",
    "actor_email",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "source_ip",
    "user_agent",
    "request_id",
    "details",
)
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class AuditQuery:
    org_id: str
    site_id: str | None = None
    action: str | None = None
    actor_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def read_audit(sql: Sql, query: AuditQuery) -> list[dict[str, Any]]:
    """Newest first; every filter value is a bound parameter."""
    where = ["org_id = {org_id:String}"]
    params: dict[str, Any] = {"org_id": query.org_id, "limit": max(1, min(query.limit, MAX_PAGE))}
    for column, value in (
        ("site_id", query.site_id),
        ("action", query.action),
        ("actor_id", query.actor_id),
        ("outcome", query.outcome),
    ):
        if value:
            where.append(f"{column} = {{{column}:String}}")
            params[column] = value
    if query.since is not None:
        where.append("at >= {since:DateTime64(3, 'UTC')}")
        params["since"] = _ch_time(query.since)
    if query.until is not None:
        where.append("at < {until:DateTime64(3, 'UTC')}")
        params["until"] = _ch_time(query.until)
    text = (
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log FINAL WHERE {' AND '.join(where)} "
        "ORDER BY at DESC, audit_id LIMIT {limit:UInt32}"
    )
    return [_entry(row) for row in sql.rows(text, params)]


def _ch_time(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    entry = dict(zip(AUDIT_COLUMNS, row, strict=True))
    entry["audit_id"] = str(entry["audit_id"])
    at = entry["at"]
    if isinstance(at, datetime):
        entry["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(timespec="milliseconds")
    entry["details"] = orjson.loads(entry["details"]) if entry["details"] else {}
    return entry
