"""The events a subscriber may ask for, and the one JSON shape every delivery carries.

An event's id is derived from what it is about (the order, the refund, the identity link, the
credit state), never drawn at random: the dispatcher may read the same row twice (a retried
run, an overlapping window) and a delivery may be retried, and every copy carries the same
`id`, so a receiver deduplicates on it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

EventType = Literal[
    "purchase.created",
    "purchase.refunded",
    "goal.completed",
    "visitor.identified",
    "attribution.updated",
]
EVENT_TYPES: tuple[EventType, ...] = (
    "purchase.created",
    "purchase.refunded",
    "goal.completed",
    "visitor.identified",
    "attribution.updated",
)
# Sent by "send test event" only; never subscribed to.
TEST_EVENT = "webhook.test"


class OutgoingEvent(BaseModel):
    """What a receiver gets as the request body (Stripe's event shape, trimmed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^evt_[0-9a-f]{32}$")
    type: str
    created: int  # Unix seconds: when Touchline saw what the event is about
    site_id: str
    livemode: bool = True
    data: dict[str, Any]

    def body(self) -> bytes:
        """The exact bytes POSTed and signed: one serialisation, sorted keys, so every attempt
        of an event sends the same body."""
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def event_id(site_id: str, event_type: str, *key: object) -> str:
    """`evt_` + 128 bits of SHA-256 over the site, the type and what identifies the event."""
    text = "\x1f".join([site_id, event_type, *(str(part) for part in key)])
    return "evt_" + hashlib.sha256(text.encode()).hexdigest()[:32]
