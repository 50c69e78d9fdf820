"""One tracking-API message as the Segment spec and the Customer.io Data Pipelines API define it.

Common fields (`messageId`, the four timestamps, `anonymousId`/`userId`, `context`) plus the
call's own (`event`, `name`, `properties`, `traits`, `groupId`, `previousId`). Unknown fields
(`integrations`, `version`, `channel`, …) are ignored, as Segment ignores them. Ids may be sent as
numbers (the spec allows it); they are stored as strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500
MAX_MESSAGE_ID = 100
MAX_ID = 256

CallType = Literal["track", "identify", "page", "screen", "group", "alias"]
CALL_TYPES: tuple[str, ...] = ("track", "identify", "page", "screen", "group", "alias")


def _as_id(value: Any) -> Any:
    """Ids are strings or numbers on the wire; blank means absent."""
    if isinstance(value, bool):
        raise ValueError("must be a string or a number")
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _utc(value: Any) -> Any:
    """ISO 8601 strings; one without a zone is UTC, as the spec says all timestamps are."""
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


Id = Annotated[str | None, BeforeValidator(_as_id), Field(max_length=MAX_ID)]
Timestamp = Annotated[datetime | None, BeforeValidator(_utc)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Campaign(_Lenient):
    name: str | None = None
    source: str | None = None
    medium: str | None = None
    term: str | None = None
    content: str | None = None


class PageContext(_Lenient):
    url: str | None = None
    referrer: str | None = None
    title: str | None = None
    path: str | None = None


class Screen(_Lenient):
    width: int | None = Field(None, ge=0)


class ExternalId(_Lenient):
    id: Annotated[str, BeforeValidator(_as_id)]
    type: str


class Context(_Lenient):
    ip: str | None = None
    user_agent: str | None = Field(None, alias="userAgent")
    page: PageContext | None = None
    campaign: Campaign | None = None
    screen: Screen | None = None
    library: dict[str, Any] | None = None
    device: dict[str, Any] | None = None
    external_ids: list[ExternalId] | None = Field(None, alias="externalIds")


class Message(_Lenient):
    type: CallType
    message_id: Annotated[str | None, BeforeValidator(_as_id)] = Field(
        None, alias="messageId", max_length=MAX_MESSAGE_ID
    )
    anonymous_id: Id = Field(None, alias="anonymousId")
    user_id: Id = Field(None, alias="userId")
    timestamp: Timestamp = None
    original_timestamp: Timestamp = Field(None, alias="originalTimestamp")
    sent_at: Timestamp = Field(None, alias="sentAt")
    context: Context = Field(default_factory=Context)
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    event: str | None = Field(None, max_length=256)
    name: str | None = Field(None, max_length=256)
    category: str | None = Field(None, max_length=256)
    group_id: Id = Field(None, alias="groupId")
    previous_id: Id = Field(None, alias="previousId")

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        """Libraries send `"properties": null`, `"context": null`; treat them as absent."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @model_validator(mode="after")
    def _required_fields(self) -> Message:
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
