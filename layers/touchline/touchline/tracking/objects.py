"""The `objects`, `relationships` and `object_events` rows a tracking-API call stands for
(migrations/0047_objects.sql, docs/objects.md).

Sources, as Segment's and Customer.io's specs define them:

* `group`: `groupId` is the object and `traits` its attributes; Customer.io's
  `traits.objectTypeId` is its type (a group call without one is type "1", Customer.io's first
  object type) and `traits.relationshipAttributes` describe the caller's relationship to it.
  With a `userId` (else an `anonymousId`) the call also relates that person to the object.
* the Customer.io semantic events `Object Deleted` and `Relationship Deleted`
  (`properties.objectId`, `properties.objectTypeId`): a row with deleted = 1.

State rows carry the call's time in ms as their version, so the latest call wins whatever order
calls arrive in, and a redelivered call collapses; history rows are keyed by the message id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row
from touchline.identity.resolve import person_id
from touchline.identity.rows import version_of

OBJECT_DELETED = "object deleted"
RELATIONSHIP_DELETED = "relationship deleted"
OBJECT_EVENTS = (OBJECT_DELETED, RELATIONSHIP_DELETED)
OBJECT_EVENT_TYPE = "object"  # the events row of those semantic events: bookkeeping, not a goal
DEFAULT_TYPE = "1"
MAX_ID = 256
MAX_TYPE = 64
# Traits about the call, not the object.
_CALL_TRAITS = ("objectTypeId", "object_type_id", "relationshipAttributes", "relationship_attributes")


class ObjectRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    object_type: str = Field(min_length=1, max_length=MAX_TYPE)
    object_id: str = Field(min_length=1, max_length=MAX_ID)
    name: str = Field("", max_length=MAX_ID)
    traits: dict[str, str] = Field(default_factory=dict)
    last_seen: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    deleted: int = Field(0, ge=0, le=1)
    version: int = Field(ge=0)


class RelationshipRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    object_type: str = Field(min_length=1, max_length=MAX_TYPE)
    object_id: str = Field(min_length=1, max_length=MAX_ID)
    member_id: str = Field(min_length=1, max_length=MAX_ID)
    member_kind: Literal["user", "anonymous"]
    person_id: str = Field("", max_length=MAX_ID + 8)
    user_id: str = Field("", max_length=MAX_ID)
    anonymous_id: str = Field("", max_length=MAX_ID)
    attributes: dict[str, str] = Field(default_factory=dict)
    last_seen: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    deleted: int = Field(0, ge=0, le=1)
    version: int = Field(ge=0)


class ObjectEventRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    object_type: str = Field(min_length=1, max_length=MAX_TYPE)
    object_id: str = Field(min_length=1, max_length=MAX_ID)
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    action: Literal["object_updated", "object_deleted", "related", "unrelated"]
    member_id: str = Field("", max_length=MAX_ID)
    person_id: str = Field("", max_length=MAX_ID + 8)
    user_id: str = Field("", max_length=MAX_ID)
    anonymous_id: str = Field("", max_length=MAX_ID)
    changes: dict[str, str] = Field(default_factory=dict)
    message_id: str = Field(min_length=1, max_length=MAX_ID)


def is_object_event(name: str) -> bool:
    return name.strip().lower() in OBJECT_EVENTS


def _text(value: Any, limit: int) -> str:
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).strip()[:limit]


def _type_of(values: dict[str, Any]) -> str:
    return _text(values.get("objectTypeId", values.get("object_type_id")), MAX_TYPE) or DEFAULT_TYPE


def object_rows(
    site_id: str,
    *,
    call: str,
    event: str,
    group_id: str,
    user_id: str,
    anonymous_id: str,
    traits: dict[str, Any],
    properties: dict[str, Any],
    message_id: str,
    at: datetime,
    flatten: Any,
) -> list[tuple[str, Row]]:
    """The rows of a group call or an object semantic event; none for any other call.

    `flatten` is the tracking API's properties → Map(String, String) conversion."""
    deletion = call == "track" and is_object_event(event)
    if call != "group" and not deletion:
        return []
    source = properties if deletion else traits
    object_id = _text(source.get("objectId", source.get("object_id")) if deletion else group_id, MAX_ID)
    if not object_id:
        return []
    common = {"site_id": site_id, "object_type": _type_of(source), "object_id": object_id}
    version = version_of(at)
    rows: list[tuple[str, Row]] = []

    def history(action: str, changes: dict[str, str], **who: str) -> None:
        rows.append(
            (
                "object_events",
                ObjectEventRow(**common, at=at, action=action, changes=changes, message_id=message_id, **who),
            )
        )

    if deletion and event.strip().lower() == OBJECT_DELETED:
        rows.append(("objects", ObjectRow(**common, last_seen=at, deleted=1, version=version)))
        history("object_deleted", {})
        return rows
    if not deletion:
        own = {k: v for k, v in traits.items() if k not in _CALL_TRAITS}
        flat = flatten(own)
        name = _text(own.get("name"), MAX_ID)
        rows.append(("objects", ObjectRow(**common, name=name, traits=flat, last_seen=at, version=version)))
        history("object_updated", flat)
    member_id, member_kind = (user_id, "user") if user_id else (anonymous_id, "anonymous")
    if not member_id:
        return rows
    who = {
        "member_id": member_id[:MAX_ID],
        "person_id": person_id("user", user_id) if user_id else person_id("visitor", anonymous_id),
        "user_id": user_id[:MAX_ID],
        "anonymous_id": anonymous_id[:MAX_ID],
    }
    attributes = traits.get("relationshipAttributes", traits.get("relationship_attributes"))
    flat_attributes = flatten(attributes) if isinstance(attributes, dict) and not deletion else {}
    relationship = RelationshipRow(
        **common,
        **who,
        member_kind=member_kind,
        attributes=flat_attributes,
        last_seen=at,
        deleted=1 if deletion else 0,
        version=version,
    )
    rows.append(("relationships", relationship))
    history("unrelated" if deletion else "related", flat_attributes, **who)
    return rows
