"""A site as the query engine needs it: id, domain, time zone, goals, aggregation watermark."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.sites import SiteStore
from touchline.config.watermarks import WatermarkStore
from touchline.query.model import Goal, SiteContext
from touchline.ttl_cache import TtlCache

AGGREGATE_JOB = "aggregate"


class SiteContexts:
    """`site_id` (id or domain) → (SiteContext, last aggregation time), cached per container."""

    def __init__(
        self,
        sites: SiteStore,
        settings: AttributionSettingsStore,
        watermarks: WatermarkStore,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sites = sites
        self._settings = settings
        self._watermarks = watermarks
        self._cache: TtlCache[str, tuple[SiteContext, datetime | None]] = TtlCache(ttl_seconds, clock=clock)

    def load(self, id_or_domain: str) -> tuple[SiteContext, datetime | None] | None:
        return self._cache.get(id_or_domain, self._load)

    def _load(self, id_or_domain: str) -> tuple[SiteContext, datetime | None] | None:
        site = self._sites.resolve(id_or_domain)
        if site is None:
            return None
        settings = self._settings.get(site.site_id)
        goals = tuple(
            Goal(
                g.name,
                g.custom_event,
                page_pattern=g.page_pattern if g.track_method == "page_url" else "",
                value=g.value,
                currency=g.currency,
                props=g.properties,
            )
            for g in settings.goals
            if g.active
        )
        mark = self._watermarks.get(site.site_id, AGGREGATE_JOB)
        aggregated = datetime.fromtimestamp(mark.position_ms / 1000, UTC) if mark else None
        context = SiteContext(
            site.site_id,
            site.domain,
            site.timezone,
            goals,
            org_id=site.org_id,
            half_life_days=settings.half_life_days,
            cart_abandon_hours=settings.cart_abandon_hours,
        )
        return context, aggregated
