"""The `consent_events` row (migration 0054, docs/consent.md)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from functools import lru_cache
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
_NAMESPACE_BYTES = CHOICE_NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def choice_id(
    site_id: str, user_id: str, anonymous_id: str, categories: dict[str, int], at: datetime
) -> UUID:
    """One id per subject, choice and UTC day, so the context choice every call repeats
    collapses: `uuid5(CHOICE_NAMESPACE, …)`, hashed as the event ids are (once per call)."""
    key = f"{site_id}/{user_id}/{anonymous_id}/{_choice_text(tuple(categories.items()))}/{at.date()}"
    h = hashlib.sha1(_NAMESPACE_BYTES + key.encode()).hexdigest()
    return UUID(f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}")


@lru_cache(maxsize=1024)
def _choice_text(items: tuple[tuple[str, int], ...]) -> str:
    """A choice in a canonical form (a site's visitors make a handful of distinct choices)."""
    return ",".join(f"{name}={granted}" for name, granted in sorted(items))


# Segment's reserved event for a changed choice (Segment Consent Preference Updated).
PREFERENCE_EVENT_NAME = "segment consent preference updated"
CONSENT_EVENT_TYPE = "consent"  # its events row, and the tag's consent call's: bookkeeping


def is_preference_event(name: str) -> bool:
    return name.strip().lower() == PREFERENCE_EVENT_NAME
