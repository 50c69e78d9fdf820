"""The tracking API's pipeline, one step each: authenticate → decode → split → validate/convert → enqueue.

Knows nothing of Lambda. Behaviour follows the Segment HTTP Tracking API (docs/tracking-api.md):

* credentials: HTTP Basic with the write key as user name, `Bearer <key>`, or `writeKey` in the
  body; missing, unknown or revoked → 401 and nothing is enqueued;
* bodies are JSON, optionally `Content-Encoding: gzip`; invalid JSON → 400;
* a single call may be 32 KB, a batch 500 KB with 32 KB per message and 2,500 messages; a request
  over its limit → 400;
* inside a batch, each message stands alone: invalid ones are reported in the 200 answer's
  `rejected` list and the valid ones are kept (a 4xx would make SDKs drop the good ones too);
  a request none of whose messages is valid → 400.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import TypeAdapter, ValidationError

from touchline import json_body
from touchline.consent.rows import ConsentEventRow
from touchline.envelope import Row, envelope_json
from touchline.errors import RequestError
from touchline.identity.rows import PersonRow
from touchline.identity.suppression import NoSuppressions, SuppressionCheck
from touchline.ingest.queue import EventQueue
from touchline.ingest.rows import EventRow
from touchline.tracking.convert import IdentityLink, MessageConverter, MessageRows, SiteRef, message_id_of
from touchline.tracking.devices import DeviceRow
from touchline.tracking.ecommerce import InvalidOrder
from touchline.tracking.keys import WriteKeyResolver
from touchline.tracking.messages import (
    CALL_TYPES,
    MAX_BATCH_BYTES,
    MAX_BATCH_MESSAGES,
    MAX_MESSAGE_BYTES,
    Message,
    Timestamp,
    storable,
    utc,
)

BATCH = "batch"


class ApiError(RequestError):
    """A request-level refusal: HTTP status and a JSON error the SDKs can read."""

    def body(self) -> dict[str, object]:
        # Top-level code/message too: the Segment and Customer.io SDKs read exactly those.
        return {**super().body(), "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ApiRequest:
    call: str  # batch | track | identify | page | screen | group | alias
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


@dataclass(slots=True)
class ApiResult:
    accepted: int = 0
    dropped: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)

    def body(self) -> dict[str, object]:
        answer: dict[str, object] = {"success": True, "accepted": self.accepted}
        if self.dropped:
            answer["dropped"] = self.dropped
        if self.rejected:
            answer["rejected"] = self.rejected
        return answer


class TrackingApi:
    def __init__(
        self,
        keys: WriteKeyResolver,
        queue: EventQueue,
        converter: MessageConverter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        suppressions: SuppressionCheck | None = None,
    ) -> None:
        self._keys = keys
        self._queue = queue
        self._converter = converter
        self._clock = clock
        self._suppressions = suppressions or NoSuppressions()

    def handle(self, request: ApiRequest) -> ApiResult:
        if request.call != BATCH and request.call not in CALL_TYPES:
            raise ApiError(404, "unknown_call", f"no such call: {request.call!r}")
        received_at = self._clock()
        site = self._site_from_header(request.headers)
        limit = MAX_BATCH_BYTES if request.call == BATCH else MAX_MESSAGE_BYTES
        payload = parse_json(decode_body(request.body, request.headers, limit))
        if site is None:
            site = self._site_from_body(payload)
        raw_messages, shared_context, raw_sent_at = split(request.call, payload)
        sent_at = parse_sent_at(raw_sent_at)
        result = ApiResult()
        bodies: list[str] = []
        seen: set[UUID] = set()
        latest = _Latest(site.site_id)
        for index, raw in enumerate(raw_messages):
            outcome = self._convert_one(index, raw, request.call, shared_context, sent_at, site, received_at)
            if isinstance(outcome, dict):
                result.rejected.append(outcome)
                continue
            if outcome is None:
                result.dropped += 1
                continue
            event = outcome.event
            assert event is not None  # dropped messages came back as None
            if self._suppressions.suppressed(site.site_id, _identifiers(event, outcome)):
                result.dropped += 1  # a deleted person's (GDPR): not stored again
                continue
            if event.event_id not in seen:
                seen.add(event.event_id)
                bodies.append(envelope_json("events", event))
                bodies.extend(envelope_json(table, row) for table, row in latest.keep(outcome))
            result.accepted += 1
        if result.rejected and not result.accepted and not result.dropped:
            first = result.rejected[0]
            raise ApiError(400, str(first["code"]), str(first["message"]), result.rejected)
        bodies.extend(latest.envelopes())
        if bodies:
            self._queue.send(bodies)
        return result

    def _convert_one(
        self,
        index: int,
        raw: Any,
        call: str,
        shared_context: dict[str, Any] | None,
        sent_at: datetime | None,
        site: SiteRef,
        received_at: datetime,
    ) -> dict[str, object] | MessageRows | None:
        """The rows of a good message, None for a dropped one, else the rejection."""
        if not isinstance(raw, dict):
            return _rejection(index, None, "invalid_message", "a message must be a JSON object")
        message_id = message_id_of(raw)
        if index >= MAX_BATCH_MESSAGES:
            return _rejection(
                index, message_id, "too_many_messages", f"a batch holds at most {MAX_BATCH_MESSAGES} messages"
            )
        if call == BATCH and len(orjson.dumps(raw)) > MAX_MESSAGE_BYTES:
            return _rejection(
                index, message_id, "message_too_large", f"a message may be at most {MAX_MESSAGE_BYTES} bytes"
            )
        data = raw
        if call != BATCH or shared_context:
            data = dict(raw)
            if call != BATCH:
                data["type"] = call
            if shared_context:
                own = data.get("context")
                data["context"] = {**shared_context, **own} if isinstance(own, dict) else shared_context
        try:
            message = Message.model_validate(data)
            converted = self._converter.convert(message, message_id, site, received_at, sent_at)
        except ValidationError as exc:
            return _rejection(index, message_id, *_validation_problem(exc))
        except InvalidOrder as exc:
            return _rejection(index, message_id, "invalid_order", str(exc))
        if converted.event is None:
            return None
        return converted

    def _site_from_header(self, headers: dict[str, str]) -> SiteRef | None:
        key = key_from_authorization(headers.get("authorization", ""))
        if key is None:
            return None
        return self._site(key)

    def _site_from_body(self, payload: Any) -> SiteRef:
        key = payload.get("writeKey") if isinstance(payload, dict) else None
        if not isinstance(key, str) or not key.strip():
            raise ApiError(
                401,
                "unauthorized",
                "missing write key: send it as the HTTP Basic user name (touchline keys create SITE)",
            )
        return self._site(key)

    def _site(self, key: str) -> SiteRef:
        site = self._keys.site_for(key.strip())
        if site is None:
            raise ApiError(401, "unauthorized", "invalid or revoked write key")
        return site


class _Latest:
    """Identity links, people and devices rows of one request, one per key: the latest, which is
    the one the ReplacingMergeTree would keep anyway (a batch repeats the same anonymousId ↔
    userId link on every call, the same person on every identify, the same device on every
    mobile call, the same consent choice on every call of the day)."""

    def __init__(self, site_id: str) -> None:
        self._site_id = site_id
        self._links: dict[tuple[tuple[str, str], tuple[str, str]], IdentityLink] = {}
        self._people: dict[str, PersonRow] = {}
        self._devices: dict[str, DeviceRow] = {}
        self._consents: dict[UUID, ConsentEventRow] = {}

    def keep(self, converted: MessageRows) -> list[tuple[str, Row]]:
        """Holds back the message's links and people rows; returns its other rows."""
        for link in converted.links:
            key = (link.first, link.second)
            held = self._links.get(key)
            if held is None or link.at >= held.at:
                self._links[key] = link
        others: list[tuple[str, Row]] = []
        for table, row in converted.rows:
            if isinstance(row, PersonRow):
                person = self._people.get(row.person_id)
                if person is None or row.version >= person.version:
                    self._people[row.person_id] = row
            elif isinstance(row, DeviceRow):
                device = self._devices.get(row.device_id)
                if device is None or row.version >= device.version:
                    self._devices[row.device_id] = row
            elif isinstance(row, ConsentEventRow):
                choice = self._consents.get(row.choice_id)
                if choice is None or row.version >= choice.version:
                    self._consents[row.choice_id] = row
            else:
                others.append((table, row))
        return others

    def envelopes(self) -> list[str]:
        links = [envelope_json("identity_links", link.row(self._site_id)) for link in self._links.values()]
        people = [envelope_json("people", row) for row in self._people.values()]
        devices = [envelope_json("devices", row) for row in self._devices.values()]
        return (
            links + people + devices + [envelope_json("consent_events", r) for r in self._consents.values()]
        )


def _identifiers(event: EventRow, outcome: MessageRows) -> list[tuple[str, str]]:
    found = [("visitor", event.visitor_id), ("user", event.user_id)]
    for link in outcome.links:
        found += [link.first, link.second]
    return found


def key_from_authorization(header: str) -> str | None:
    """The write key of `Basic base64(key:)` or `Bearer key`; None when no usable header."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "unauthorized", "malformed Basic credentials") from None
    user = decoded.partition(":")[0]
    return user or None


def decode_body(body: bytes, headers: dict[str, str], limit: int) -> bytes:
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding == "gzip":
        data = _gunzip(body, limit)
    else:
        raise ApiError(415, "unsupported_encoding", f"unsupported Content-Encoding {encoding!r}: use gzip")
    if len(data) > limit:
        raise ApiError(
            400, "request_too_large", f"request body is {len(data)} bytes; at most {limit} bytes are accepted"
        )
    return data


def _gunzip(body: bytes, limit: int) -> bytes:
    """Decompress at most limit+1 bytes: a small bomb cannot inflate into memory."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, "invalid_gzip", f"request body is not valid gzip: {exc}") from None
    if len(data) <= limit and not inflater.eof:
        raise ApiError(400, "invalid_gzip", "request body is a truncated gzip stream")
    return data


def parse_json(data: bytes) -> Any:
    if not data.strip():
        raise ApiError(400, "invalid_json", "request body is empty; send a JSON object")
    try:
        payload = json_body.loads(data)
    except json_body.JsonBodyError as exc:
        raise ApiError(400, "invalid_json", f"request body is {exc}") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "request body must be a JSON object")
    return payload


def split(call: str, payload: dict[str, Any]) -> tuple[list[Any], dict[str, Any] | None, Any]:
    """The messages of a request, the batch-level context merged into each, and the batch's sentAt."""
    if call != BATCH:
        return [payload], None, None
    batch = payload.get("batch")
    if not isinstance(batch, list):
        raise ApiError(400, "invalid_batch", 'a batch body is {"batch": [message, ...]}')
    if not batch:
        raise ApiError(400, "invalid_batch", "the batch is empty")
    context = payload.get("context")
    return batch, context if isinstance(context, dict) and context else None, payload.get("sentAt")


_SENT_AT: TypeAdapter[Timestamp] = TypeAdapter(Timestamp)


def parse_sent_at(value: Any) -> datetime | None:
    """The batch's `sentAt`, once per request: each message may carry its own, which wins."""
    if value is None:
        return None
    try:
        sent_at = utc(_SENT_AT.validate_python(value))
        storable("sentAt", sent_at)
    except ValidationError:
        raise ApiError(400, "invalid_batch", f"sentAt is not an ISO 8601 time: {value!r}") from None
    except ValueError as exc:
        raise ApiError(400, "invalid_batch", str(exc)) from None
    return sent_at


def _rejection(index: int, message_id: str | None, code: str, message: str) -> dict[str, object]:
    problem: dict[str, object] = {"index": index, "code": code, "message": message}
    if message_id is not None:
        problem["messageId"] = message_id
    return problem


def _validation_problem(exc: ValidationError) -> tuple[str, str]:
    errors = exc.errors(include_url=False, include_input=False)
    summary = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'message'}: {err['msg'].removeprefix('Value error, ')}"
        for err in errors[:5]
    )
    if any("userId or anonymousId" in err["msg"] for err in errors):
        return "no_user_anon_id", summary
    return "invalid_message", summary
