"""Domain → site id for the collector, cached per Lambda container (`touchline.ttl_cache`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from touchline.config.sites import Site
from touchline.ttl_cache import TtlCache


class SiteLookup(Protocol):
    def by_domain(self, domain: str) -> Site | None: ...


class SiteResolver:
    def __init__(
        self,
        lookup: SiteLookup,
        ttl_seconds: float = 60.0,
        negative_ttl_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._cache: TtlCache[str, Site] = TtlCache(ttl_seconds, negative_ttl_seconds, clock, max_entries)

    def site_id(self, domain: str) -> str | None:
        site = self.site(domain)
        return site.site_id if site else None

    def site(self, domain: str) -> Site | None:
        """The site, with its settings the collector honours (cookieless), as cached."""
        return self._cache.get(domain, self._lookup.by_domain)
