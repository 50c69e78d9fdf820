"""The collector pipeline, one named step each: parse → validate → resolve site → enrich → enqueue.

Knows nothing of Lambda: the handler turns an API Gateway event into an `IncomingHit` and a
`CollectError` into a 4xx. Bad input is always a `CollectError`, never an unhandled exception.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from touchline import json_body
from touchline.config.sites import Site
from touchline.consent.policy import choice_of
from touchline.consent.rows import CONSENT_EVENT_TYPE, TAG, ConsentEventRow
from touchline.consent.withhold import strip_click_ids
from touchline.envelope import columns_envelope_json, envelope_json
from touchline.errors import RequestError
from touchline.identity.suppression import NoSuppressions, SuppressionCheck
from touchline.ingest.enrich import DropHit, Enricher, HitContext
from touchline.ingest.hit import IDENTIFY, MAX_BODY_BYTES, PlausibleHit
from touchline.ingest.identify import identity_links
from touchline.ingest.queue import EventQueue
from touchline.ingest.rows import EventRow
from touchline.ingest.site_cache import SiteResolver

PAGEVIEW = "pageview"
SUPPRESSED = "suppressed"
ENGAGEMENT = "engagement"
CONSENT = "consent"  # the tag's `touchline('consent', {...})`: the visitor's choice, recorded


class CollectError(RequestError):
    """Bad input: the HTTP status and a JSON-able error the client can act on."""


@dataclass(frozen=True, slots=True)
class IncomingHit:
    body: bytes
    user_agent: str
    ip: str  # by the deployment's trust rule (touchline.aws.client_ip), never a client's say-so
    geo_headers: dict[str, str] = field(default_factory=dict)  # the CDN geo headers trusted


@dataclass(frozen=True, slots=True)
class Accepted:
    event_ids: list[str]
    dropped: str | None = None


class Collector:
    """Turns one incoming hit into zero or more enqueued envelopes (one per registered domain)."""

    def __init__(
        self,
        sites: SiteResolver,
        queue: EventQueue,
        enricher: Enricher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        suppressions: SuppressionCheck | None = None,
    ) -> None:
        self._sites = sites
        self._queue = queue
        self._enricher = enricher
        self._clock = clock
        self._suppressions = suppressions or NoSuppressions()

    def collect(self, incoming: IncomingHit) -> Accepted:
        hit = parse_hit(incoming.body)
        sites = self._resolve_sites(hit)
        now = self._clock()
        envelopes: list[str] = []
        event_ids: list[str] = []
        choice = choice_of(hit.consent) if hit.consent is not None else None
        for site_id, domain, site in sites:
            grants = site.consent.grants(choice)
            url = hit.url if grants.advertising else strip_click_ids(hit.url)
            context = HitContext(
                site_id=site_id,
                site_domain=domain,
                url=url,
                referrer=hit.referrer or "",
                user_agent=incoming.user_agent,
                ip=incoming.ip,
                timestamp=now,
                headers=incoming.geo_headers,
                # A cookieless site, or a visitor without analytics consent (docs/consent.md),
                # counts with the daily hash whatever the tag sent (docs/tag.md).
                visitor_id=None if site.cookieless or not grants.analytics else hit.visitor_id,
            )
            try:
                enriched = self._enricher.enrich(context)
            except DropHit as drop:
                return Accepted(event_ids=[], dropped=drop.reason)
            columns = row_columns(hit, context, enriched)
            if self._suppressions.suppressed(site_id, _identifiers(hit, columns)):
                continue  # a deleted person's: never stored again (GDPR, identity/suppression.py)
            if not grants.analytics:
                columns.pop("user_id", None)
            # The hit's model holds every value to its column's limits, so the row's JSON is
            # written straight from its columns: an EventRow built and serialised here cost a
            # quarter of a hit (tests/unit/test_collect_row_json.py holds the two equal).
            envelopes.append(columns_envelope_json("events", EventRow, columns))
            if hit.name == IDENTIFY and grants.analytics:
                row = EventRow.model_validate(columns)
                envelopes.extend(envelope_json("identity_links", link) for link in identity_links(hit, row))
            if hit.name == CONSENT and choice is not None:
                envelopes.append(envelope_json("consent_events", _consent_row(hit, columns, choice)))
            event_ids.append(str(columns["event_id"]))
        if not envelopes:
            return Accepted(event_ids=[], dropped=SUPPRESSED)
        self._queue.send(envelopes)
        return Accepted(event_ids=event_ids)

    def _resolve_sites(self, hit: PlausibleHit) -> list[tuple[str, str, Site]]:
        found: dict[str, tuple[str, str, Site]] = {}
        domains = hit.domains()
        sites = self._sites.sites(domains)
        for domain in domains:
            site = sites[domain]
            if site is not None and site.site_id not in found:  # two aliases of one site: once
                found[site.site_id] = (site.site_id, domain, site)
        if not found:
            raise CollectError(404, "unknown_site", f"no site is registered for domain {hit.domain!r}")
        return list(found.values())


def _consent_row(hit: PlausibleHit, columns: dict[str, object], choice: dict[str, bool]) -> ConsentEventRow:
    """The visitor's choice under the ids the tag sent (kept whatever it says: docs/consent.md)."""
    from touchline.identity.resolve import person_id
    from touchline.identity.rows import version_of

    visitor = hit.visitor_id or str(columns.get("visitor_id") or "")
    return ConsentEventRow(
        site_id=str(columns["site_id"]),
        choice_id=columns["event_id"],
        at=columns["timestamp"],
        person_id=person_id("user", hit.user_id) if hit.user_id else person_id("visitor", visitor),
        user_id=hit.user_id or "",
        anonymous_id=visitor,
        source=TAG,
        ingest_source="tag",
        categories={name: int(granted) for name, granted in choice.items()},
        version=version_of(columns["timestamp"]),  # type: ignore[arg-type]
    )


def _identifiers(hit: PlausibleHit, columns: dict[str, object]) -> list[tuple[str, str]]:
    return [
        ("visitor", str(columns.get("visitor_id") or "")),
        ("user", hit.user_id or ""),
        ("email_sha256", hit.email_sha256 or ""),
    ]


def parse_hit(body: bytes) -> PlausibleHit:
    """JSON (sent as application/json or text/plain, as sendBeacon does) into a validated hit."""
    if len(body) > MAX_BODY_BYTES:
        raise CollectError(413, "body_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise CollectError(400, "empty_body", "request body is empty; send a JSON event")
    try:
        data = json_body.loads(body)
    except json_body.JsonBodyError as exc:
        raise CollectError(400, "invalid_json", f"request body is {exc}") from None
    if not isinstance(data, dict):
        raise CollectError(400, "invalid_event", "request body must be a JSON object")
    try:
        return PlausibleHit.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise CollectError(400, "invalid_event", f"invalid event: {summary}", problems) from None


def event_type_of(name: str) -> str:
    if name == PAGEVIEW:
        return PAGEVIEW
    if name == ENGAGEMENT:
        return ENGAGEMENT
    if name == IDENTIFY:
        return IDENTIFY
    if name == CONSENT:
        return CONSENT_EVENT_TYPE
    return "goal"


def build_row(hit: PlausibleHit, context: HitContext, enriched: dict[str, object]) -> EventRow:
    return EventRow.model_validate(row_columns(hit, context, enriched))


def row_columns(hit: PlausibleHit, context: HitContext, enriched: dict[str, object]) -> dict[str, object]:
    """The hit's `events` columns, each already of its column's type (EventRow would keep them
    as they are)."""
    columns: dict[str, object] = {
        "event_id": uuid.uuid4(),
        "site_id": context.site_id,
        "timestamp": context.timestamp,
        "received_at": context.timestamp,
        "event_type": event_type_of(hit.name),
        "name": hit.name,
        "url": context.url,
        "referrer": context.referrer,
        "props": hit.props_as_strings(),
        "interactive": int(hit.interactive),
        "engagement_ms": hit.engagement_ms,
        "scroll_depth": hit.scroll_depth,
        "screen_width": hit.screen_width,
    }
    if hit.revenue is not None:
        columns["revenue"] = hit.revenue.amount
        columns["currency"] = hit.revenue.currency
    if hit.user_id:
        columns["user_id"] = hit.user_id
    columns.update(enriched)
    if hit.hash_mode and "#" in hit.url:
        # Hash-routed apps: the route is the fragment, so it belongs in the path (Plausible's rule).
        columns["pathname"] = f"{columns.get('pathname') or '/'}#{hit.url.split('#', 1)[1]}"
    return columns
