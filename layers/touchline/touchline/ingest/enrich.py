"""The enrichment seam: what the collector knows about a hit, and what enrichment adds to its row.

The collector's pipeline calls one `Enricher`; the minimal one here only splits the URL and reads
UTM parameters. `touchline.enrichment` provides the full one (user agent, bots, geo, channel,
visitor id) behind the same protocol, so the collector never changes when enrichment grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MAX_UTM = 2000
NO_PARAMS: Mapping[str, str] = MappingProxyType({})


@lru_cache(maxsize=2048)
def query_params(query: str) -> Mapping[str, str]:
    """A URL query's parameters (the last of a repeated name wins, blanks dropped), read-only.

    Cached: landing pages share a handful of campaign queries (`?utm_source=…`), and parsing
    one costs more than the rest of a hit's URL work."""
    return MappingProxyType(dict(parse_qsl(query))) if query else NO_PARAMS


def utm_columns(params: Mapping[str, str]) -> dict[str, object]:
    """The `utm_*` columns a query's parameters fill (present ones only, each ≤ MAX_UTM)."""
    return {key: value[:MAX_UTM] for key in UTM_KEYS if (value := params.get(key))}


@dataclass(slots=True)
class HitContext:
    """Everything the collector knows about one hit before it is enqueued. Read-only by
    convention: a frozen dataclass's __init__ costs three times as much, once per hit."""

    site_id: str
    site_domain: str
    url: str
    referrer: str
    user_agent: str
    ip: str
    timestamp: datetime
    # The CDN geo headers the deployment's trust rule believes (touchline.aws.client_ip).
    headers: dict[str, str] = field(default_factory=dict)
    # The tag's first-party visitor id, when it sent one.
    visitor_id: str | None = None


class DropHit(Exception):
    """Raised by an enricher when the hit must not be stored (bot, spam); `reason` names a metric."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Enricher(Protocol):
    def enrich(self, hit: HitContext) -> dict[str, object]:
        """Return the `events` columns this enricher fills; raise `DropHit` to discard the hit."""
        ...


class UrlEnricher:
    """Minimal enrichment: hostname/path split and UTM parameters from the page URL."""

    def enrich(self, hit: HitContext) -> dict[str, object]:
        parts = urlsplit(hit.url)
        columns: dict[str, object] = {
            "hostname": (parts.hostname or "").removeprefix("www."),
            "pathname": parts.path or "/",
            "visitor_id": hit.visitor_id or "",
        }
        columns.update(utm_columns(query_params(parts.query)))
        return columns
