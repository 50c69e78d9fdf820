"""The `consent_events` row (migration 0054, docs/consent.md)."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row

MAX_ID = 256
# Where a recorded choice came from.
CONTEXT = "context"  # context.consent on any tracking-API call
PREFERENCE_EVENT = "preference_event"  # Segment Consent Preference Updated
IDENTIFY = "identify"  # an identify's traits.consent
TAG = "tag"  # the tag's consent call


class ConsentEventRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    event_id: UUID
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    person_id: str = Field("", max_length=MAX_ID + 8)
    user_id: str = Field("", max_length=MAX_ID)
    anonymous_id: str = Field("", max_length=MAX_ID)
    source: str = Field(min_length=1, max_length=32)
    ingest_source: str = Field("api", max_length=16)
    categories: dict[str, int] = Field(max_length=50)

    def subject(self) -> tuple[str, str]:
        return self.user_id, self.anonymous_id


# Segment's reserved event for a changed choice (Segment Consent Preference Updated).
PREFERENCE_EVENT_NAME = "segment consent preference updated"
CONSENT_EVENT_TYPE = "consent"  # its events row, and the tag's consent call's: bookkeeping


def is_preference_event(name: str) -> bool:
    return name.strip().lower() == PREFERENCE_EVENT_NAME
