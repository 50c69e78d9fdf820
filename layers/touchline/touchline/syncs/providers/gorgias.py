"""Gorgias: tickets and satisfaction surveys → customer events (seed 000), their customers →
integration customers, identity links and people.

Gorgias lists are cursor paginated (`limit` ≤ 100, `cursor`, `meta.next_cursor`) and have no
date filter, only an order: tickets are walked newest-updated first (`updated_datetime:desc`) and
the walk stops at the watermark minus an overlap; surveys newest-created first, re-reading two
weeks because a survey is scored days after it is sent. The watermark moves when a walk reaches
its end; a walk that runs out of time stores its cursor and resumes (restarting from the newest if
Gorgias no longer accepts that cursor). Throttling is a leaky bucket of 40 calls per 20 s:
`X-Gorgias-Account-Api-Call-Limit: 10/40` on every answer, 429 with `Retry-After` past it.
https://developers.gorgias.com/reference/pagination-1 , https://developers.gorgias.com/reference/limitations-1
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from touchline.identity.rows import email_sha256
from touchline.syncs.http import ApiError, HttpClient, Response, bucket_pace
from touchline.syncs.providers.base import Connection, Provider, Settings, http_client
from touchline.syncs.providers.common import add_customer, clean_email, json_text, millis, parse_time
from touchline.syncs.rows import CustomerEventRow
from touchline.syncs.state import StreamState
from touchline.syncs.streams import Batch, Pass, Stream

PAGE_SIZE = 100
LEAK_PER_SECOND = 2.0  # 40 calls per 20 s for API-key integrations


class GorgiasCredentials(BaseModel):
    """A Gorgias REST API key (`touchline integrations add gorgias`)."""

    model_config = ConfigDict(extra="ignore")

    domain: str = Field(min_length=1)  # <domain>.gorgias.com
    email: str = Field(min_length=3)  # the user the key belongs to (HTTP Basic username)
    api_key: str = Field(min_length=1)


def pace(response: Response) -> float:
    return bucket_pace(response.header("x-gorgias-account-api-call-limit"), LEAK_PER_SECOND)


Rows = Callable[[Batch, dict[str, Any]], None]


@dataclass
class NewestFirstStream:
    """A newest-first listing walked down to the watermark (minus `overlap`) in resumable passes."""

    name: str
    http: HttpClient
    path: str
    order_by: str  # "updated_datetime:desc"
    time_field: str  # the field the listing is ordered by
    rows_of: Rows
    overlap: timedelta = timedelta(minutes=10)
    min_interval: timedelta = timedelta(0)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def batches(self, state: StreamState) -> Iterator[Batch]:
        run = Pass.resume(state, self.overlap, self.clock())
        cursor = run.cursor
        while True:
            params = {"limit": PAGE_SIZE, "order_by": self.order_by, "cursor": cursor}
            try:
                page = self.http.get(self.path, params).json() or {}
            except ApiError as exc:
                if cursor is None or exc.status not in (400, 404, 422):
                    raise
                cursor = None  # the stored cursor expired: walk again from the newest
                continue
            batch = Batch()
            reached_end = False
            for record in page.get("data") or []:
                moment = parse_time(record.get(self.time_field))
                if moment is None:
                    batch.skipped.append(f"{self.name} {record.get('id')}: no {self.time_field}")
                    continue
                if run.start is not None and moment < run.start:
                    reached_end = True
                    break
                batch.records += 1
                batch.reached = moment if batch.reached is None else min(batch.reached, moment)
                try:
                    self.rows_of(batch, record)
                except (ValidationError, ValueError, TypeError) as exc:
                    batch.skipped.append(f"{self.name} {record.get('id')}: {str(exc)[:200]}")
            cursor = (page.get("meta") or {}).get("next_cursor")
            done = reached_end or not cursor
            batch.checkpoint = run.finished() if done else run.at(cursor)
            yield batch
            if done:
                return


def ticket_rows(site_id: str) -> Rows:
    def rows(batch: Batch, ticket: dict[str, Any]) -> None:
        updated = parse_time(ticket.get("updated_datetime"))
        created = parse_time(ticket.get("created_datetime")) or updated
        if updated is None or created is None:
            raise ValueError("no updated_datetime")
        customer = ticket.get("customer") or {}
        email = clean_email(customer.get("email"))
        customer_id = str(customer.get("id") or "")
        if customer_id:
            add_customer(
                batch,
                site_id=site_id,
                source="gorgias",
                id_type="gorgias_customer",
                customer_id=customer_id,
                email=email,
                first_name=str(customer.get("firstname") or ""),
                last_name=str(customer.get("lastname") or ""),
                created_at=None,
                updated_at=updated,
                traits={"name": customer.get("name")},
            )
        batch.add(
            "customer_events",
            CustomerEventRow(
                site_id=site_id,
                source="gorgias",
                event_id=f"ticket:{ticket['id']}",
                event_type="ticket",
                customer_id=customer_id,
                email_sha256=email_sha256(email) if email else "",
                occurred_at=created,
                updated_at=updated,
                event_details=json_text(
                    {
                        "subject": ticket.get("subject"),
                        "status": ticket.get("status"),
                        "channel": ticket.get("channel"),
                        "via": ticket.get("via"),
                        "priority": ticket.get("priority"),
                        "language": ticket.get("language"),
                        "spam": ticket.get("spam"),
                        "tags": [t.get("name") for t in ticket.get("tags") or [] if isinstance(t, dict)],
                        "messages_count": ticket.get("messages_count"),
                        "assignee_user_id": (ticket.get("assignee_user") or {}).get("id"),
                        "opened_datetime": ticket.get("opened_datetime"),
                        "closed_datetime": ticket.get("closed_datetime"),
                        "last_message_datetime": ticket.get("last_message_datetime"),
                        "external_id": ticket.get("external_id"),
                    }
                ),
                version=millis(updated),
            ),
        )

    return rows


def survey_rows(site_id: str) -> Rows:
    def rows(batch: Batch, survey: dict[str, Any]) -> None:
        created = parse_time(survey.get("created_datetime"))
        if created is None:
            raise ValueError("no created_datetime")
        scored = parse_time(survey.get("scored_datetime"))
        updated = max(created, scored) if scored else created
        batch.add(
            "customer_events",
            CustomerEventRow(
                site_id=site_id,
                source="gorgias",
                event_id=f"survey:{survey['id']}",
                event_type="satisfaction_survey",
                customer_id=str(survey.get("customer_id") or ""),
                occurred_at=created,
                updated_at=updated,
                event_details=json_text(
                    {
                        "score": survey.get("score"),
                        "body_text": survey.get("body_text"),
                        "ticket_id": survey.get("ticket_id"),
                        "sent_datetime": survey.get("sent_datetime"),
                        "scored_datetime": survey.get("scored_datetime"),
                    }
                ),
                version=millis(updated),
            ),
        )

    return rows


def open_gorgias(settings: Settings, credentials: Any) -> Connection:
    assert isinstance(credentials, GorgiasCredentials)
    token = base64.b64encode(f"{credentials.email}:{credentials.api_key}".encode()).decode()
    domain = credentials.domain.removesuffix(".gorgias.com")
    http = http_client(
        "gorgias", settings, f"https://{domain}.gorgias.com", {"authorization": f"Basic {token}"}, pace
    )
    http.base_url = f"{http.base_url}api/"
    site = settings.site_id
    streams: list[Stream] = [
        NewestFirstStream(
            "tickets", http, "tickets", "updated_datetime:desc", "updated_datetime", ticket_rows(site)
        ),
        NewestFirstStream(
            "satisfaction_surveys",
            http,
            "satisfaction-surveys",
            "created_datetime:desc",
            "created_datetime",
            survey_rows(site),
            overlap=timedelta(days=14),
        ),
    ]
    return Connection(http, streams)


GORGIAS = Provider("gorgias", GorgiasCredentials, open_gorgias, "https://{domain}.gorgias.com")
