"""One tracking-API message as the Segment spec and the Customer.io Data Pipelines API define it.

Common fields (`messageId`, the four timestamps, `anonymousId`/`userId`, `context`) plus the
call's own (`event`, `name`, `properties`, `traits`, `groupId`, `previousId`). Unknown fields
(`integrations`, `version`, `channel`, …) are ignored, as Segment ignores them, and a `null` is
the same as an absent field. Ids may be sent as numbers (the spec allows it); they are stored as
strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from touchline.envelope import EARLIEST, LATEST

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500
MAX_MESSAGE_ID = 100
MAX_ID = 256

CallType = Literal["track", "identify", "page", "screen", "group", "alias"]
CALL_TYPES: tuple[str, ...] = ("track", "identify", "page", "screen", "group", "alias")


# Ids arrive as strings or numbers (numbers are coerced to strings); blank means absent
# (`present`). Timestamps are ISO 8601; one without a zone is UTC (`utc`). Both are handled
# without Python validators: this model is validated once per message on the hot path.
Id = Annotated[str | None, Field(max_length=MAX_ID)]
Timestamp = datetime | None


def present(value: str | None) -> str | None:
    return value or None


def storable(name: str, value: datetime | None) -> None:
    """A time the warehouse can hold (2000-2099): year 1 or 9999 is a client's bug, refused with
    the field's name, not clamped or overflowed into a 5xx (issue 13)."""
    if value is not None and not EARLIEST <= value < LATEST:
        raise ValueError(f"{name} {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year - 1}")


def utc(value: datetime | None) -> datetime | None:
    """In `datetime.UTC`: pydantic's own tzinfo makes every later comparison, subtraction and
    `.timestamp()` call back into it, several times per message."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_LENIENT = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)


class _Lenient(BaseModel):
    model_config = _LENIENT


# The context and its objects are TypedDicts, not models: validated the same way, but a dict
# costs a third of a model instance, and a relayed browser context carries four of them.
@with_config(_LENIENT)
class Campaign(TypedDict, total=False):
    name: str | None
    source: str | None
    medium: str | None
    term: str | None
    content: str | None


@with_config(_LENIENT)
class PageContext(TypedDict, total=False):
    url: str | None
    referrer: str | None
    title: str | None
    path: str | None


@with_config(_LENIENT)
class Screen(TypedDict, total=False):
    width: Annotated[int | None, Field(ge=0)]


@with_config(_LENIENT)
class ExternalId(TypedDict):
    id: Annotated[str, Field(min_length=1, max_length=MAX_ID)]
    type: str


@with_config(_LENIENT)
class Context(TypedDict, total=False):
    ip: str | None
    user_agent: Annotated[str | None, Field(alias="userAgent")]
    page: PageContext | None
    campaign: Campaign | None
    screen: Screen | None
    external_ids: Annotated[list[ExternalId] | None, Field(alias="externalIds")]
    # The mobile SDKs' device, OS and app: taken as sent, read leniently by
    # touchline.tracking.devices (a malformed one loses the device row, never the call).
    device: Any
    os: Any
    app: Any
    # Segment's consent object ({"categoryPreferences": {...}}), read leniently by
    # touchline.consent.policy.choice_of: a malformed one says nothing, never loses the call.
    consent: Any


class Message(_Lenient):
    type: CallType
    message_id: str | None = Field(None, alias="messageId", max_length=MAX_MESSAGE_ID)
    anonymous_id: Id = Field(None, alias="anonymousId")
    user_id: Id = Field(None, alias="userId")
    timestamp: Timestamp = None
    original_timestamp: Timestamp = Field(None, alias="originalTimestamp")
    sent_at: Timestamp = Field(None, alias="sentAt")
    context: Context | None = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    event: str | None = Field(None, max_length=256)
    name: str | None = Field(None, max_length=256)
    category: str | None = Field(None, max_length=256)
    group_id: Id = Field(None, alias="groupId")
    previous_id: Id = Field(None, alias="previousId")

    @model_validator(mode="after")
    def _required_fields(self) -> Message:
        # Straight into __dict__: pydantic's __setattr__ costs ~1 µs a field on this hot path.
        self.__dict__.update(
            anonymous_id=present(self.anonymous_id),
            user_id=present(self.user_id),
            group_id=present(self.group_id),
            previous_id=present(self.previous_id),
            timestamp=utc(self.timestamp),
            original_timestamp=utc(self.original_timestamp),
            sent_at=utc(self.sent_at),
        )
        storable("timestamp", self.timestamp)
        storable("originalTimestamp", self.original_timestamp)
        storable("sentAt", self.sent_at)
        if self.type == "alias":
            if not self.user_id or not self.previous_id:
                raise ValueError("alias needs userId and previousId")
        elif not self.user_id and not self.anonymous_id:
            raise ValueError("userId or anonymousId is required")
        if self.type == "track" and not (self.event and self.event.strip()):
            raise ValueError("track needs an event name")
        if self.type == "group" and not self.group_id:
            raise ValueError("group needs a groupId")
        return self
