"""Enrichment of API messages: the collector's, applied to what the message's context carries.

A browser relayed through a server (`context.userAgent`, `context.page`, `context.ip`,
`context.campaign`) is enriched exactly like a browser hit, by the collector's enricher. A plain
server call carries no user agent; the collector's enricher would call it a bot, so it gets only
what its context supports (page URL, UTM and channel from the page/referrer/campaign, country
from `context.ip`) and no invented device or "Direct" channel. Only browsing calls (page,
screen) from a bot user agent or a spam referrer are dropped; a track, identify or purchase is
an explicit statement by the site's own server and is always kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from urllib.parse import urlencode

from touchline.ingest.enrich import MAX_UTM, DropHit, Enricher, HitContext, UrlEnricher
from touchline.tracking.messages import Campaign

CAMPAIGN_PARAMS = (
    ("source", "utm_source"),
    ("medium", "utm_medium"),
    ("name", "utm_campaign"),
    ("content", "utm_content"),
    ("term", "utm_term"),
)


def campaign_url(url: str, campaign: Campaign | None) -> str:
    """The page URL with the context's campaign as UTM parameters (they win over the URL's)."""
    if campaign is None:
        return url
    get = campaign.get
    query = _campaign_query(get("source"), get("medium"), get("name"), get("content"), get("term"))
    if not query:
        return url
    base = url.partition("#")[0]
    return f"{base}{'&' if '?' in base else '?'}{query}"


@lru_cache(maxsize=1024)
def _campaign_query(*values: str | None) -> str:
    """Encoded once per campaign: a batch's messages mostly share a few."""
    return urlencode(
        {utm: value[:MAX_UTM] for (_, utm), value in zip(CAMPAIGN_PARAMS, values, strict=True) if value}
    )


class ContextEnricher:
    """`enrich(hit, browsing)` → the `events` columns, or None when a browsing call must be dropped."""

    def __init__(self, full: Enricher) -> None:
        self._full = full
        self._url = UrlEnricher()
        self._agentless: Callable[[HitContext], dict[str, object]] | None = None

    def enrich(self, hit: HitContext, *, browsing: bool) -> dict[str, object] | None:
        if hit.user_agent:
            try:
                return self._full.enrich(hit)
            except DropHit:
                if browsing:
                    return None
                hit = replace(hit, user_agent="")
        return self.agentless(hit)

    def agentless(self, hit: HitContext) -> dict[str, object]:
        if self._agentless is None:
            self._agentless = _agentless_enricher(self._url)
        return self._agentless(hit)


def _agentless_enricher(url_enricher: UrlEnricher) -> Callable[[HitContext], dict[str, object]]:
    """URL/UTM always; source/channel and IP country when the enrichment package is installed."""
    try:
        from touchline.enrichment.geo import IpCountry, location_columns
        from touchline.enrichment.landing import hostname, landing_columns, split_url, url_hostname
    except ImportError:  # pragma: no cover - the layer always ships it
        return url_enricher.enrich
    ip_country = IpCountry()

    def enrich(hit: HitContext) -> dict[str, object]:
        columns: dict[str, object] = {"visitor_id": hit.visitor_id or ""}
        if hit.url or hit.referrer:
            page = split_url(hit.url)
            page_host = hostname(page.netloc)
            columns.update(hostname=page_host, pathname=page.path or "/")
            referrer_host = url_hostname(hit.referrer)
            columns.update(landing_columns(page.query, referrer_host, page_host, hit.site_domain))
        if hit.ip:
            columns.update(location_columns({}, hit.ip, ip_country))
        return columns

    return enrich
