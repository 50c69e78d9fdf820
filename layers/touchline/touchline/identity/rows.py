"""Rows of the identity tables, as producers enqueue them (see migrations/0002_identity.sql).

Every producer that learns two identifiers belong together (the tag's identify, the Segment
API's identify/alias, a Stripe customer's email, a Shopify order's customer) enqueues an
`identity_links` row; resolution turns the link graph into `identity_map`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row

ID_TYPES = (
    "visitor",
    "user",
    "email_sha256",
    "anonymous",
    "stripe_customer",
    "shopify_customer",
    "hubspot_contact",
    "klaviyo_profile",
    "gorgias_customer",
    "lemonsqueezy_customer",
    "polar_customer",
    "paddle_customer",
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_sha256(email: str) -> str:
    """The form emails are linked by: sha256 of the trimmed, lower-cased address (hex)."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


def version_of(at: datetime) -> int:
    """ReplacingMergeTree version: milliseconds since the epoch of the write."""
    return int(at.timestamp() * 1000)


class IdentityLinkRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    from_type: str = Field(min_length=1, max_length=32)
    from_id: str = Field(min_length=1, max_length=256)
    to_type: str = Field(min_length=1, max_length=32)
    to_id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=32)
    linked_at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)

    @classmethod
    def between(
        cls, site_id: str, a: tuple[str, str], b: tuple[str, str], source: str, at: datetime
    ) -> IdentityLinkRow:
        """One undirected edge, stored in a canonical direction so re-sending it deduplicates."""
        (from_type, from_id), (to_type, to_id) = sorted([a, b])
        return cls(
            site_id=site_id,
            from_type=from_type,
            from_id=from_id,
            to_type=to_type,
            to_id=to_id,
            source=source,
            linked_at=at,
            version=version_of(at),
        )


class PersonRow(Row):
    """One `people` row: a person's traits as of one identify (the latest version wins)."""

    site_id: str = Field(min_length=1, max_length=64)
    person_id: str = Field(min_length=1, max_length=256)
    user_id: str = Field("", max_length=256)
    email: str = Field("", max_length=320)
    email_sha256: str = Field("", max_length=64)
    traits: str = "{}"
    first_seen: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    last_seen: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)
