"""The `consent_events` row (migration 0054, docs/consent.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
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
    choice_id: UUID
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    person_id: str = Field("", max_length=MAX_ID + 8)
    user_id: str = Field("", max_length=MAX_ID)
    anonymous_id: str = Field("", max_length=MAX_ID)
    source: str = Field(min_length=1, max_length=32)
    ingest_source: str = Field("api", max_length=16)
    categories: dict[str, int] = Field(max_length=50)
    version: int = Field(ge=0)


# uuid5 namespace of the context choices' ids.
CHOICE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://touchline.dev/consent/choice")


def choice_id(
    site_id: str, user_id: str, anonymous_id: str, categories: dict[str, int], at: datetime
) -> UUID:
    """One id per subject, choice and UTC day: the context choice every call repeats collapses."""
    choice = ",".join(f"{name}={granted}" for name, granted in sorted(categories.items()))
    return uuid.uuid5(CHOICE_NAMESPACE, f"{site_id}/{user_id}/{anonymous_id}/{choice}/{at:%Y-%m-%d}")


# Segment's reserved event for a changed choice (Segment Consent Preference Updated).
PREFERENCE_EVENT_NAME = "segment consent preference updated"
CONSENT_EVENT_TYPE = "consent"  # its events row, and the tag's consent call's: bookkeeping


def is_preference_event(name: str) -> bool:
    return name.strip().lower() == PREFERENCE_EVENT_NAME
