"""One validated message → the rows it stands for: an `events` row, identity links, a people row,
revenue rows. Pure: no I/O, the site and the receive time are given.

* `event_id` is a UUIDv5 of (site, messageId): a redelivered batch produces the same ids and
  collapses in the ReplacingMergeTree. A message without a messageId gets one from a hash of its
  content, so even then an exact resend deduplicates.
* `visitor_id` is the `anonymousId`, else the `userId`: never derived from IP or user agent.
* Every message carrying both `anonymousId` and `userId` links them (as Segment's identity
  resolution does); `identify` also links the email (as `email_sha256`) and `context.externalIds`
  of known types; `alias` links `previousId` to `userId`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

from touchline.consent.policy import OFF, Choice, ConsentPolicy, Grants, choice_of
from touchline.consent.rows import (
    CONSENT_EVENT_TYPE,
    CONTEXT,
    IDENTIFY,
    PREFERENCE_EVENT,
    ConsentEventRow,
    choice_id,
    is_preference_event,
)
from touchline.consent.withhold import strip_click_ids, withhold
from touchline.envelope import Row
from touchline.identity.resolve import person_id
from touchline.identity.rows import IdentityLinkRow, PersonRow, email_sha256, normalize_email, version_of
from touchline.ingest.enrich import HitContext
from touchline.ingest.rows import EventRow
from touchline.tracking import carts, devices, ecommerce, objects, video
from touchline.tracking.clock import NO_CORRECTION, clock_time
from touchline.tracking.enrich import ContextEnricher, campaign_url
from touchline.tracking.ids import event_id
from touchline.tracking.messages import Context, Message, PageContext

INGEST_SOURCE = "api"
PAGEVIEW = "pageview"
GOAL = "goal"  # a track call is a custom event, as the tag's goals are (conversions count them)
MAX_SCREEN_WIDTH = 65535
# context.externalIds[].type → identity_links identifier type.
EXTERNAL_ID_TYPES = {
    "stripe_customer": "stripe_customer",
    "stripe_customer_id": "stripe_customer",
    "shopify_customer": "shopify_customer",
    "shopify_customer_id": "shopify_customer",
    "hubspot_contact": "hubspot_contact",
    "hubspot_contact_id": "hubspot_contact",
    "klaviyo_profile": "klaviyo_profile",
    "klaviyo_profile_id": "klaviyo_profile",
    "gorgias_customer": "gorgias_customer",
    "gorgias_customer_id": "gorgias_customer",
    "email": "email",
}
NO_CONTEXT = Context()
NO_PAGE = PageContext()
# Columns a relayed browser context fills only when a page URL was given.
_PAGE_COLUMNS = ("hostname", "pathname")


@dataclass(frozen=True, slots=True)
class SiteRef:
    site_id: str
    site_domain: str
    consent: ConsentPolicy = OFF


class IdentityLink(NamedTuple):
    """An edge a message proves, endpoints in canonical order. It becomes a row only once per
    request (`row`): a batch repeats the same anonymousId ↔ userId edge on every call, and
    building the validated row is the expensive part."""

    first: tuple[str, str]
    second: tuple[str, str]
    source: str
    at: datetime

    def row(self, site_id: str) -> IdentityLinkRow:
        return IdentityLinkRow.between(site_id, self.first, self.second, self.source, self.at)


@dataclass(slots=True)
class MessageRows:
    """What one message produced; `event` is None when a browsing call was dropped (bot, spam)."""

    event: EventRow | None
    rows: list[tuple[str, Row]] = field(default_factory=list)
    links: list[IdentityLink] = field(default_factory=list)
    dropped: str | None = None


def message_id_of(raw: dict[str, Any]) -> str:
    """The sender's messageId, or a digest of the message itself (minus send-time fields)."""
    given = raw.get("messageId")
    if isinstance(given, str | int) and not isinstance(given, bool) and str(given).strip():
        return str(given).strip()
    content = {k: v for k, v in raw.items() if k not in ("sentAt", "receivedAt", "writeKey")}
    return "sha256:" + hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


_MILLISECOND = timedelta(milliseconds=1)


def flatten(values: dict[str, Any]) -> dict[str, str]:
    """Properties → Map(String, String): scalars as text, objects and arrays as JSON, nulls dropped."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None or not key:
            continue
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            out[key] = repr(value) if isinstance(value, float) else str(value)
        else:
            out[key] = orjson.dumps(value, default=str).decode()
    return out


class MessageConverter:
    def __init__(self, enricher: ContextEnricher) -> None:
        self._enricher = enricher

    def convert(
        self,
        message: Message,
        message_id: str,
        site: SiteRef,
        received_at: datetime,
        batch_sent_at: datetime | None = None,
    ) -> MessageRows:
        """Raises `ecommerce.InvalidOrder` (or pydantic's ValidationError) for bad input."""
        sent_at = message.sent_at or batch_sent_at
        at, correction = clock_time(received_at, message.timestamp, message.original_timestamp, sent_at)
        kind = message.type
        properties = message.properties or {}
        context = message.context or NO_CONTEXT
        page = context.get("page") or NO_PAGE
        page_url = page.get("url") or ""
        page_referrer = page.get("referrer") or ""
        if kind == "page":
            url = str(properties.get("url") or page_url)
            referrer = str(properties.get("referrer") or page_referrer)
        else:
            url, referrer = page_url, page_referrer
        choice, choice_source = _consent_choice(message, context)
        grants = site.consent.grants(choice)
        if not grants.advertising:
            url = strip_click_ids(url)
        # Without analytics consent the call names nobody (docs/consent.md): a relayed browser
        # counts with the collector's daily hash, a server call with no visitor at all.
        visitor = (message.anonymous_id or message.user_id or "") if grants.analytics else ""
        columns: dict[str, object] = {
            "event_id": event_id(site.site_id, message_id),
            "site_id": site.site_id,
            "timestamp": at,
            "received_at": received_at,
            "ingest_source": INGEST_SOURCE,
            "visitor_id": visitor,
            "user_id": (message.user_id or "") if grants.analytics else "",
            "url": url,
            "referrer": referrer,
        }
        if correction != NO_CORRECTION:
            columns["clock_correction_ms"] = correction // _MILLISECOND
        user_agent = context.get("user_agent") or ""
        ip = context.get("ip") or ""
        campaign = context.get("campaign")
        if user_agent or ip or url or referrer or campaign:
            hit = HitContext(
                site_id=site.site_id,
                site_domain=site.site_domain,
                url=campaign_url(url, campaign),
                referrer=referrer,
                user_agent=user_agent,
                ip=ip,
                timestamp=at,
                visitor_id=visitor if grants.analytics else None,
            )
            enriched = self._enricher.enrich(hit, browsing=kind in ("page", "screen"))
            if enriched is None:
                return MessageRows(event=None, dropped="bot_or_spam")
            if not url:
                for column in _PAGE_COLUMNS:
                    enriched.pop(column, None)
            if grants.analytics:
                enriched["visitor_id"] = visitor
            columns.update(enriched)
        if (screen := context.get("screen")) and (width := screen.get("width")):
            columns["screen_width"] = min(width, MAX_SCREEN_WIDTH)

        rows: list[tuple[str, Row]] = []
        columns.update(self._call_columns(message, site, at, message_id, rows))
        if not grants.analytics:
            columns["props"] = _anonymous_props(columns.get("props"))
        event = EventRow.model_validate(columns)
        if choice is not None:
            rows.append(("consent_events", consent_row(message, site.site_id, event, choice, choice_source)))
        if kind == "identify":
            rows.append(("people", person_row(message, site.site_id, at)))
        device_event = kind == "track" and columns["event_type"] == devices.DEVICE_EVENT_TYPE
        if device_event or isinstance(context.get("device"), dict):
            device = devices.device_row(
                site.site_id,
                call=kind,
                event=message.event or "",
                user_id=message.user_id or "",
                anonymous_id=message.anonymous_id or "",
                context=dict(context),
                properties=properties,
                at=at,
            )
            if device is not None:
                rows.append(("devices", device))
        if kind == "track" and (
            watched := video.video_row(
                site.site_id,
                event=message.event or "",
                properties=properties,
                visitor_id=visitor,
                user_id=message.user_id or "",
                message_id=message_id,
                at=at,
            )
        ):
            rows.append(("video_events", watched))
        event_name = (message.event or "").strip()
        if kind == "track" and carts.is_commerce_state_event(event_name):
            rows.extend(
                carts.commerce_rows(
                    site.site_id,
                    event=event_name,
                    properties=properties,
                    visitor_id=visitor,
                    user_id=message.user_id or "",
                    message_id=message_id,
                    at=at,
                )
            )
        if kind == "group" or columns["event_type"] == objects.OBJECT_EVENT_TYPE:
            rows.extend(
                objects.object_rows(
                    site.site_id,
                    call=kind,
                    event=message.event or "",
                    group_id=message.group_id or "",
                    user_id=message.user_id or "",
                    anonymous_id=message.anonymous_id or "",
                    traits=message.traits or {},
                    properties=properties,
                    message_id=message_id,
                    at=at,
                    flatten=flatten,
                )
            )
        if grants.everything:
            return MessageRows(event=event, rows=rows, links=identity_links(message, at))
        return MessageRows(event=event, rows=withhold(rows, grants), links=_links(message, at, grants))

    def _call_columns(
        self, message: Message, site: SiteRef, at: datetime, message_id: str, rows: list[tuple[str, Row]]
    ) -> dict[str, object]:
        kind = message.type
        properties = message.properties or {}
        if kind == "track":
            name = (message.event or "").strip()
            if objects.is_object_event(name):
                # Bookkeeping: the deletion goes to `objects` / `relationships` (docs/objects.md).
                return {"event_type": objects.OBJECT_EVENT_TYPE, "name": name, "props": flatten(properties)}
            if is_preference_event(name):
                # Bookkeeping: the choice goes to `consent_events` (docs/consent.md).
                return {"event_type": CONSENT_EVENT_TYPE, "name": name, "props": flatten(properties)}
            if devices.is_device_event(name):
                # Bookkeeping, not a goal; the device (and its push token) goes to `devices` only.
                kept = {k: v for k, v in properties.items() if k != "device"}
                return {"event_type": devices.DEVICE_EVENT_TYPE, "name": name, "props": flatten(kept)}
            columns: dict[str, object] = {"event_type": GOAL, "name": name, "props": flatten(properties)}
            money_kind = ecommerce.event_type_of(name)
            if money_kind == ecommerce.PURCHASE:
                columns["event_type"] = money_kind
                rows.extend(
                    ecommerce.order_rows(
                        site.site_id,
                        properties,
                        at,
                        visitor_id=message.anonymous_id or message.user_id or "",
                        user_id=message.user_id or "",
                        email_hash=_email_hash(properties.get("email")),
                    )
                )
                columns.update(_revenue(properties))
            elif money_kind == ecommerce.REFUND:
                columns["event_type"] = money_kind
                refund = ecommerce.refund_row(site.site_id, properties, at, message_id)
                if refund is not None:
                    rows.append(("refunds", refund))
            elif properties.get("revenue") is not None:
                columns.update(_revenue(properties))
            return columns
        if kind == "page":
            props = flatten(properties)
            if message.name:
                props["page_name"] = message.name
            if message.category:
                props["page_category"] = message.category
            page = (message.context or NO_CONTEXT).get("page") or NO_PAGE
            title = properties.get("title") or page.get("title") or ""
            return {"event_type": PAGEVIEW, "name": PAGEVIEW, "page_title": str(title), "props": props}
        if kind == "screen":
            return {"event_type": "screen", "name": message.name or "screen", "props": flatten(properties)}
        if kind == "group":
            return {
                "event_type": "group",
                "name": "group",
                "props": {**flatten(message.traits or {}), "group_id": message.group_id or ""},
            }
        if kind == "alias":
            previous = message.previous_id or ""
            return {"event_type": "alias", "name": "alias", "props": {"previous_id": previous}}
        # identify: traits live in `people`, not copied onto the event.
        return {"event_type": "identify", "name": "identify"}


def _consent_choice(message: Message, context: Context) -> tuple[Choice | None, str]:
    """The call's consent: an identify's `traits.consent`, else `context.consent`."""
    if message.type == "identify" and message.traits and "consent" in message.traits:
        traits_choice = choice_of(message.traits["consent"])
        if traits_choice is not None:
            return traits_choice, IDENTIFY
    given = context.get("consent")
    if given is None:
        return None, CONTEXT
    choice = choice_of(given)
    if message.type == "track" and is_preference_event(message.event or ""):
        return choice, PREFERENCE_EVENT
    return choice, CONTEXT


def consent_row(
    message: Message, site_id: str, event: EventRow, choice: Choice, source: str
) -> ConsentEventRow:
    """The choice under the ids the call came with (kept whatever it says: docs/consent.md)."""
    user, anonymous = message.user_id or "", message.anonymous_id or ""
    categories = {name: int(granted) for name, granted in choice.items()}
    return ConsentEventRow.model_construct(
        site_id=site_id,
        choice_id=event.event_id
        if source != CONTEXT
        else choice_id(site_id, user, anonymous, categories, event.timestamp),
        at=event.timestamp,
        person_id=person_id("user", user) if user else person_id("visitor", anonymous),
        user_id=user,
        anonymous_id=anonymous,
        source=source,
        ingest_source=INGEST_SOURCE,
        categories=categories,
        version=version_of(event.timestamp),
    )


# Properties that name a person outright; dropped from a call without analytics consent.
_PERSONAL_PROPS = frozenset({"email", "phone", "user_id", "userid", "anonymous_id", "anonymousid"})


def _anonymous_props(props: object) -> dict[str, str]:
    if not isinstance(props, dict):
        return {}
    return {k: v for k, v in props.items() if k.lower() not in _PERSONAL_PROPS}


def _links(message: Message, at: datetime, grants: Grants) -> list[IdentityLink]:
    return identity_links(message, at) if grants.analytics else []


def _revenue(properties: dict[str, Any]) -> dict[str, object]:
    currency = ecommerce.currency_of(properties)
    amount: Decimal | None = ecommerce.order_total(properties, currency)
    return {} if amount is None else {"revenue": amount, "currency": currency}


def _email(value: Any) -> str:
    return normalize_email(value) if isinstance(value, str) and "@" in value else ""


def _email_hash(value: Any) -> str:
    email = _email(value)
    return email_sha256(email) if email else ""


def identity_links(message: Message, at: datetime) -> list[IdentityLink]:
    """The edges this message proves, in canonical direction, without duplicates."""
    kind = message.type
    user = ("user", message.user_id) if message.user_id else None
    anonymous = ("anonymous", message.anonymous_id) if message.anonymous_id else None
    external_ids = (message.context or NO_CONTEXT).get("external_ids")
    if kind != "identify" and kind != "alias" and not external_ids:
        # Most calls: a track or page proves at most its anonymousId ↔ userId edge.
        return [IdentityLink(*_ordered(anonymous, user), kind, at)] if user and anonymous else []
    pairs: list[tuple[tuple[str, str], tuple[str, str]]] = []
    if kind == "alias" and user and message.previous_id:
        pairs.append((("anonymous", message.previous_id), user))
    elif user and anonymous:
        pairs.append((anonymous, user))
    known = user or anonymous
    traits = message.traits or {}
    email_hash = _email_hash(traits.get("email")) if kind == "identify" else ""
    if known and email_hash:
        pairs.append((known, ("email_sha256", email_hash)))
    if known:
        for external in external_ids or []:
            id_type = EXTERNAL_ID_TYPES.get(external["type"].strip().lower())
            if id_type == "email":
                if external_hash := _email_hash(external["id"]):
                    pairs.append((known, ("email_sha256", external_hash)))
            elif id_type:
                pairs.append((known, (id_type, external["id"][:256])))
    links: dict[tuple[tuple[str, str], tuple[str, str]], IdentityLink] = {}
    for a, b in pairs:
        if a != b:
            ordered = _ordered(a, b)
            links.setdefault(ordered, IdentityLink(*ordered, kind, at))
    return list(links.values())


def _ordered(a: tuple[str, str], b: tuple[str, str]) -> tuple[tuple[str, str], tuple[str, str]]:
    return (a, b) if a <= b else (b, a)


def person_row(message: Message, site_id: str, at: datetime) -> PersonRow:
    """The identify's traits under the id resolution will give its person (docs/identity.md)."""
    traits = message.traits or {}
    email = _email(traits.get("email"))
    hashed = email_sha256(email) if email else ""
    person = (
        person_id("user", message.user_id)
        if message.user_id
        else person_id("email_sha256", hashed)
        if hashed
        else person_id("visitor", message.anonymous_id or "")
    )
    return PersonRow(
        site_id=site_id,
        person_id=person,
        user_id=message.user_id or "",
        email=email,
        email_sha256=hashed,
        traits=orjson.dumps(traits, default=str).decode(),
        first_seen=at,
        last_seen=at,
        version=version_of(at),
    )
